"""The miner's market in the admin: a price floor saved or deleted goes out in the manifest at once."""

from decimal import Decimal

import pytest

from executor.services.hosts import executor_hosts_parse
from miner.models import ClassPriceFloor
from miner.selectors import manifest_published
from miner.services.executors import executor_hosts_sync
from miner.services.manifest import manifest_publish

pytestmark = pytest.mark.django_db
ADMIN = "/admin/miner"


def test_a_floor_saved_in_the_admin_is_published(admin_client):
    executor_hosts_sync(executor_hosts_parse("h1=local;cpu.small=1"))
    manifest_publish()
    response = admin_client.post(f"{ADMIN}/classpricefloor/add/", {"executor_class": "cpu.small", "min_price": "0.25"})
    assert response.status_code == 302, response.content.decode()[:2000]
    published = manifest_published()
    assert published is not None
    assert published.price_floors == {"cpu.small": "0.25"}
    floor = ClassPriceFloor.objects.get()
    assert floor.min_price == Decimal("0.25")
    response = admin_client.post(f"{ADMIN}/classpricefloor/{floor.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    published = manifest_published()
    assert published is not None
    assert published.price_floors is None


def test_a_negative_floor_is_refused(admin_client):
    response = admin_client.post(f"{ADMIN}/classpricefloor/add/", {"executor_class": "cpu.small", "min_price": "-1"})
    assert response.status_code == 200  # the form again, with the error
    assert not ClassPriceFloor.objects.exists()


def test_share_demand_and_slots_lists_render(admin_client):
    executor_hosts_sync(executor_hosts_parse("h1=local;cpu.small=1"))
    assert admin_client.get(f"{ADMIN}/sharedemand/").status_code == 200
    assert admin_client.get(f"{ADMIN}/executorslot/").status_code == 200
