"""Alerts to operators: keyword arguments for the SMTP provider's ``SmtpNotifier``.

The notifier renders subject and HTML as Jinja templates with the callback's context, so our
fixed text is made inert (escaped, no Jinja syntax) and every value from the context is escaped.
"""

from __future__ import annotations

import html

from etl.addresses import check_allowed
from etl.settings import settings

# Context differs by callback: a task failure has ``ti``, ``exception`` and a DagRun object; a
# DAG failure has ``dag_run`` and ``reason``; a deadline alert (triggerer) has ``dag_run`` as a
# dict (``dag_run_id``) and ``deadline``. The prelude reads whichever is there.
_PRELUDE = (
    "{% set eb_dr = dag_run if dag_run is defined and dag_run else none %}"
    "{% set eb_dag = eb_dr.dag_id if eb_dr is not none and eb_dr.dag_id is defined else 'tertial_followup' %}"
    "{% set eb_run = eb_dr.run_id if eb_dr is not none and eb_dr.run_id is defined else "
    "(eb_dr.dag_run_id if eb_dr is not none and eb_dr.dag_run_id is defined else '') %}"
)
OPERATOR_SUBJECTS = {
    "failure": _PRELUDE + "Tertialuppföljningen stoppade: {{ eb_dag }} {{ eb_run }}"
    "{% if ti is defined and ti %} ({{ ti.task_id }}){% endif %}",
    "deadline": _PRELUDE + "Tertialuppföljningen är inte klar i tid: {{ eb_dag }} {{ eb_run }}",
}
OPERATOR_LEADS = {
    "failure": "En körning av tertialuppföljningen har stoppats eller misslyckats.",
    "deadline": "En körning av tertialuppföljningen har inte blivit klar inom den utsatta tiden.",
}
OPERATOR_HINTS = {
    "failure": (
        "Stoppades körningen av valideringen (ValidationStop) finns orsaken i valideringsrapporten "
        "(validation.json och Data Docs i körningens staging-mapp) och i docs/validation.md: rätta "
        "källdata och rensa (Clear) uppgiften. Annars: läs uppgiftens logg och dess beskrivning i "
        "Airflow (doc_md), åtgärda felet och rensa uppgiften. E-post skickas aldrig två gånger."
    ),
    "deadline": (
        "Öppna körningen i Airflow och se vilken uppgift som väntar eller gör om försök: vanliga "
        "orsaker är att källdatabasen inte svarar, att poolen för källdatabasen är full eller att "
        "ingen worker är igång. Körningen fortsätter av sig själv när orsaken är åtgärdad."
    ),
}
OPERATOR_HTML = """<!DOCTYPE html>
<html lang="sv"><head><meta charset="utf-8"></head>
<body style="font-family:Arial,sans-serif;font-size:14px">
<p>__LEAD__</p>
<table>
<tr><td>DAG</td><td>{{ eb_dag | e }}</td></tr>
<tr><td>Körning</td><td>{{ eb_run | e }}</td></tr>
{% if ti is defined and ti %}<tr><td>Uppgift</td><td>{{ ti.task_id | e }}</td></tr>
<tr><td>Försök</td><td>{{ ti.try_number | e }}</td></tr>
<tr><td>Logg</td><td>{{ (ti.log_url if ti.log_url is defined else '') | e }}</td></tr>{% endif %}
{% if exception is defined and exception %}<tr><td>Fel</td>
<td>{{ exception | string | truncate(400) | e }}</td></tr>{% endif %}
{% if reason is defined and reason %}<tr><td>Orsak</td>
<td>{{ reason | string | truncate(400) | e }}</td></tr>{% endif %}
{% if deadline is defined and deadline %}<tr><td>Skulle vara klar</td>
<td>{{ deadline.deadline_time | string | e }}</td></tr>{% endif %}
</table>
<p>__HINT__</p>
</body></html>
"""


def _jinja_inert(text: str) -> str:
    """HTML-escaped text that Jinja cannot read as a template."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;").replace("%", "&#37;")


def operator_alert(kind: str = "failure", hint: str | None = None) -> dict:
    """Keyword arguments for the SMTP provider's ``SmtpNotifier`` (failure callback or deadline).

    ``kind`` is ``failure`` (on_failure_callback: validation stop or any error) or ``deadline``
    (DeadlineAlert). ``hint`` replaces the default advice.
    """
    if kind not in OPERATOR_SUBJECTS:
        raise ValueError(f"Okänd sorts driftlarm {kind!r}: ska vara {' eller '.join(OPERATOR_SUBJECTS)}.")
    cfg = settings().mail
    for addr in cfg.operators:
        check_allowed(addr, cfg.delivery.allowed_domains)
    body = OPERATOR_HTML.replace("__LEAD__", _jinja_inert(OPERATOR_LEADS[kind]))
    return {
        "to": list(cfg.operators),
        "from_email": cfg.delivery.sender,
        "subject": OPERATOR_SUBJECTS[kind],
        "html_content": _PRELUDE + body.replace("__HINT__", _jinja_inert(hint or OPERATOR_HINTS[kind])),
        "smtp_conn_id": cfg.delivery.smtp.conn_id,
    }
