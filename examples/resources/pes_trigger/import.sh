# A trigger is imported as GROUP/NAME (the group's name or ID, the trigger's
# name), or by its ID (GET /v1/groups/{id}/triggers lists them).
terraform import pes_trigger.cpu_high web/cpu-high
terraform import pes_trigger.cpu_high 01a1fef4-c1ab-7dd7-b1f7-054539669653
