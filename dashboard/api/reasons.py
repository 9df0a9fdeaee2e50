"""Why a reply went to a human, in words: the support workflow's escalation codes, stated once.

The ledger keeps a code and, after a colon, its detail ("gate_refused: names a date not in the facts");
the page shows the sentence for the code followed by the detail. A reason that is no known code (an old
free-text reason) is shown as it is."""

ESCALATION_REASONS = {
    "legal_threat": "The customer mentions legal action",
    "injection_attempt": "The message tries to steer the AI (prompt injection)",
    "refund_above_limit": "The refund asked for is above the automatic refund limit",
    "refund_outside_window": "The refund is asked for after the refund window",
    "low_confidence": "The AI was not sure what the customer wants",
    "model_unsure": "The AI said a human should answer",
    "no_matching_order": "No order of this customer matches the message",
    "policy_topic": "The topic needs a human by the store's policy",
    "unsupported_language": "The message is in a language the AI does not answer",
    "llm_unavailable": "The AI service was unavailable",
    "gate_refused": "The AI's draft failed the last check before sending",
    "validation_failed_twice": "The AI's drafts failed the checks twice",
    "send_failed": "The helpdesk refused the reply",
    "sender_cap": "The sender wrote more messages today than the AI answers",
    "daily_cap": "The store received more messages today than the AI answers",
    "token_budget": "The day's AI token budget is spent",
    "action_needs_order": "The action asked for needs an order, and none was identified",
    "action_unavailable": "The action asked for is not one the AI may perform",
    "action_refused": "The action asked for was refused",
}


def reason_text(reason: str | None) -> str | None:
    """The operator's sentence for a stored escalation reason."""
    if not reason:
        return None
    code, sep, detail = reason.partition(":")
    sentence = ESCALATION_REASONS.get(code.strip())
    if sentence is None:
        return reason
    detail = detail.strip()
    return f"{sentence}: {detail}" if sep and detail else sentence
