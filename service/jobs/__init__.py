"""Asynchronous batch jobs on shared storage (issue 9): any replica can answer for, and work on,
any job. Pure file logic and orchestration: no web imports (the routes are in api/jobs.py)."""
