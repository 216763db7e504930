"""The field app: a phone web page for grid staff (网格员 / 台区经理 / 抢修班) to take and work their orders.

Mounted on the console's server under /field with its own logins (TeamMember passwords, FieldSession rows),
its own CSRF token and its own photo store; every change goes through backend.workorders.WorkOrders."""
