"""The grid: one upload made into widths x qualities x formats, as a batch (answered in the request)
or as a job (kept on shared storage). Layout here, execution on the pool in one executor."""
