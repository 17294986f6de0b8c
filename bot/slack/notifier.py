"""Alert delivery to Slack: the outbox's ``Notifier``.

One alert is one ``chat.postMessage``: nothing else is posted before it succeeds, so a retry by
the outbox can never duplicate half an alert. A 429 is retried in the client after its
``Retry-After`` (a rate-limited call was not processed, so repeating it cannot post twice);
when Slack still refuses, ``DeliveryFailed`` hands the alert back to the outbox, which tries
again later. Follow-ups thread under the first alert about the same model.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session, sessionmaker

from bot.slack.cards import update_card
from bot.slack.client import make_client, retry_after
from bot.slack.respond import message_payload
from bot.views.alerts import alert_message
from governance.alerts.notifier import Delivered, DeliveryFailed, OutgoingAlert
from governance.config import Settings

log = logging.getLogger(__name__)


def slack_notifier(
    settings: Settings, session_factory: sessionmaker[Session] | None = None
) -> SlackNotifier:
    """The outbox's notifier when Slack is configured (``modelgov worker`` and ``serve``)."""
    return SlackNotifier(make_client(settings), session_factory=session_factory)


class SlackNotifier:
    """Posts alerts; with a session factory it also refreshes the request cards they affect."""

    def __init__(
        self, client: WebClient, *, session_factory: sessionmaker[Session] | None = None
    ) -> None:
        self._client = client
        self._factory = session_factory

    def deliver(self, alert: OutgoingAlert) -> Delivered:
        reply = alert_message(alert)
        try:
            response = self._client.chat_postMessage(
                channel=alert.destination,
                thread_ts=alert.thread_ref,
                unfurl_links=False,
                unfurl_media=False,
                **message_payload(reply),
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            wait = retry_after(exc.response.headers) if status == 429 else None
            raise DeliveryFailed(f"Slack {status}: {error or 'error'}", retry_after=wait) from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryFailed(f"Slack unreachable: {type(exc).__name__}: {exc}") from exc
        self._refresh_cards(alert)
        return Delivered(message_ref=str(response["ts"]))

    def _refresh_cards(self, alert: OutgoingAlert) -> None:
        """Cards of approvals this alert moved (to review, expired) show their new state.

        After the post, and never failing it: the alert is out, and a failed delivery would
        be posted again.
        """
        if self._factory is None:
            return
        ids = [a.get("id") for a in alert.payload.get("approvals_in_review") or []]
        ids.append(alert.payload.get("approval_id"))
        for approval_id in {i for i in ids if isinstance(i, int)}:
            try:
                update_card(self._client, self._factory, approval_id)
            except Exception:
                log.warning("cannot refresh the card of request #%s", approval_id, exc_info=True)
