"""The team lead's desk: view helpers for the schedule, policy, service, team and audit pages
(timelines drawn as SVG, the editors' form drafts, coverage warnings). No rules live here:
drafts become the same specs the API sends, and every action is a domain service call."""
