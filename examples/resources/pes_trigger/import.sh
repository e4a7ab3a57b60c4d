# A trigger is imported by its ID (GET /v1/groups/{id}/triggers lists them).
terraform import pes_trigger.cpu_high 01a1fef4-c1ab-7dd7-b1f7-054539669653
