from django.urls import path

from facilitator.apis.account import AccountApi
from facilitator.apis.executor_classes import ExecutorClassListApi
from facilitator.apis.jobs import JobCancelApi, JobDetailApi, JobListCreateApi, JobOutputApi
from facilitator.apis.wait import job_wait

urlpatterns = [
    path("jobs/", JobListCreateApi.as_view(), name="job-list"),
    path("jobs/<uuid:job_uuid>/", JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<uuid:job_uuid>/wait/", job_wait, name="job-wait"),
    path("jobs/<uuid:job_uuid>/cancel/", JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<uuid:job_uuid>/output/", JobOutputApi.as_view(), name="job-output"),
    path("account/", AccountApi.as_view(), name="account"),
    path("executor-classes/", ExecutorClassListApi.as_view(), name="executor-classes"),
]
