"""Outbound channels behind one small interface (``paging.channels.base.Channel``)."""
