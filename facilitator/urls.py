from django.urls import path

from facilitator.apis.account import AccountApi, AccountHistoryApi
from facilitator.apis.executor_classes import ExecutorClassListApi
from facilitator.apis.jobs import JobCancelApi, JobDetailApi, JobListCreateApi, JobOutputApi
from facilitator.apis.object_io import object_content, objects_collection
from facilitator.apis.object_transfer import object_retrieval_put, object_staged
from facilitator.apis.objects import ObjectDetailApi
from facilitator.apis.rentals import RentalDetailApi, RentalListCreateApi
from facilitator.apis.wait import job_wait

urlpatterns = [
    path("jobs/", JobListCreateApi.as_view(), name="job-list"),
    path("jobs/<uuid:job_uuid>/", JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<uuid:job_uuid>/wait/", job_wait, name="job-wait"),
    path("jobs/<uuid:job_uuid>/cancel/", JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<uuid:job_uuid>/output/", JobOutputApi.as_view(), name="job-output"),
    path("rentals/", RentalListCreateApi.as_view(), name="rental-list"),
    path("rentals/<uuid:rental_uuid>/", RentalDetailApi.as_view(), name="rental-detail"),
    path("account/", AccountApi.as_view(), name="account"),
    path("account/history/", AccountHistoryApi.as_view(), name="account-history"),
    path("executor-classes/", ExecutorClassListApi.as_view(), name="executor-classes"),
    path("objects/", objects_collection, name="object-list"),
    path("objects/<uuid:object_id>/", ObjectDetailApi.as_view(), name="object-detail"),
    path("objects/<uuid:object_id>/content/", object_content, name="object-content"),
    path("validator/objects/<uuid:object_id>/staged/", object_staged, name="object-staged"),
    path(
        "validator/objects/<uuid:object_id>/retrievals/<uuid:request_id>/",
        object_retrieval_put,
        name="object-retrieval",
    ),
]
