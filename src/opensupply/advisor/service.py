"""The advisor's use cases: recommend from answers (pure rules), and apply a recommendation — switch on
exactly the recommended modules (with what they need) for the acting company."""

from __future__ import annotations

from opensupply.core import modules
from opensupply.core.errors import ValidationFailed
from opensupply.core.uow import UnitOfWork

from . import rules


def recommend(answers: dict) -> dict:
    """The roadmap for an answers object; bad answers are a 422 naming the problem."""
    try:
        return rules.recommend(rules.parse_answers(answers))
    except rules.InvalidAnswers as exc:
        raise ValidationFailed(str(exc), field="answers") from None


def apply_recommendation(uow: UnitOfWork, answers: dict) -> dict:
    """Switch on the recommended modules, the others off; returns the recommendation and what changed."""
    rec = recommend(answers)
    result = modules.apply_modules(uow, set(rec["modules"]))
    return {"recommendation": rec, **result}
