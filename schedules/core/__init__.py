"""The pure schedule core: plain values in, plain values out, never a session or the clock.

:mod:`~schedules.core.values` (a :class:`~schedules.core.values.SchedulePlan`, its layers,
rotations, restrictions and overrides), the rotation grid (:mod:`~schedules.core.rotation`),
restriction windows (:mod:`~schedules.core.restrictions`), wall-clock conversion
(:mod:`~schedules.core.wallclock`), the final timeline and who is on call
(:mod:`~schedules.core.timeline`), history-keeping edits (:mod:`~schedules.core.edits`),
handoffs in people's words (:mod:`~schedules.core.handoffs`) and what an edit changes
(:mod:`~schedules.core.changes`).
"""
