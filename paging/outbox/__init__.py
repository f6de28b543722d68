"""The outbox: every outbound message is a row (``models``) before it is a provider call.

Rows are built by ``paging.response`` (pages to a tier's people) and ``contact_notices``
(verification codes, test pages, password resets, invites). ``dispatch`` claims due rows under
a lease (``claims``), plans storms with ``bundling`` (over ``sent_lately``), builds what a
channel sends with ``outgoing``, hands it to its channel (the protocol: ``channel``; what each
kind of channel does: ``channel_type``) and has ``recording`` write the result; a message that
fails for good is tried on the person's next contact method by ``failover``. ``jobs`` is the
engine's sending job (what is due, and the dispatcher that sends it).
"""
