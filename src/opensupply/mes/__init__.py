"""MES — manufacturing execution. For now only the pure scheduling solver (scheduling.py); the business module
(work orders, routings, shift calendars) comes later and extends the same CP-SAT model."""
