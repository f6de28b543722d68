"""ASGI pieces ahead of FastAPI's routing: the events fast path (``fast_path``: PagerDuty
events served without the framework's per-request cost, their rate limit, worker threads and
connection pool), the body size limit (``limits``) and the refusal of control characters in
requests (``input_guard``)."""
