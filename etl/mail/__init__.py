"""E-mail to managers (the workbook with a short summary) and to operators (failures).

Why it looks like this:
- Only published (suppressed) figures go into a message; ``..`` stays ``..``.
- Statistics must not leave the organisation: every address is checked against an
  allow-list of domains before anything is connected to or written (:mod:`.recipients`).
- Sending is idempotent (:mod:`.ledger`): a write-once entry per (recipient, content hash),
  created only after the server accepted the message; a retried or cleared task finds it and
  sends nothing. One retry layer: the Airflow task's (:mod:`.sending` tries once).
- Messages are deterministic (:mod:`.message`): an outbox ``.eml`` is byte-identical across
  re-runs of the same data.

Modules: ``recipients`` (who gets what), ``message`` (what they get), ``sending`` (SMTP or
outbox, once), ``ledger`` (what was sent), ``operators`` (alerts for SmtpNotifier). The DAG file
imports ``recipients`` and ``operators`` at parse time: no pandas and no Airflow at module level
anywhere in this package (both are imported inside the functions that need them).
"""
