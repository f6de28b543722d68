"""The paging engine: the loop (``loop``), the jobs it runs (``jobs``, listed in ``registry``),
the one query for when each falls due (``due``), waking it up (``alarm``, ``wake``) and its
metrics (``metrics``).

Kept empty of imports: every room of ``paging`` asks ``paging.engine.wake`` for a wake-up.
"""
