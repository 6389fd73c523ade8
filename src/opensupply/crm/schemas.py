"""What crosses HTTP (and page forms): CRM inputs as pydantic models. Pages build the same
models from their forms with `parse()`, so a form and a JSON body are checked alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        return None if isinstance(v, str) and v.strip() == "" else v


def parse(model: type[_In], data: dict) -> _In:
    """`model(**data)` with pydantic's complaint turned into a translated field error."""
    try:
        return model(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(x) for x in err.get("loc", ()))
        raise ValidationFailed(_("输入有误：{field} {msg}", field=name, msg=err.get("msg", "")), field=name) from None


class LeadIn(_In):
    name: str = Field(max_length=120)
    company_name: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=80)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    wechat: str | None = Field(None, max_length=80)
    source: str = "other"
    owner_id: int | None = None
    expected_value: Decimal | None = None
    notes: str | None = None


class LeadUpdate(_In):
    name: str | None = Field(None, max_length=120)
    company_name: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=80)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    wechat: str | None = Field(None, max_length=80)
    source: str | None = None
    owner_id: int | None = None
    expected_value: Decimal | None = None
    notes: str | None = None


class LeadStateIn(_In):
    state: Literal["new", "contacted", "qualified", "lost"]
    reason: str | None = Field(None, max_length=300)


class LeadConvertIn(_In):
    partner_id: int | None = None  # an existing customer; else one is created from the lead
    partner_code: str | None = Field(None, max_length=40)
    opportunity_name: str | None = Field(None, max_length=200)
    expected_value: Decimal | None = None
    expected_close_date: dt.date | None = None
    create_opportunity: bool = True


class ContactIn(_In):
    partner_id: int | None = None
    name: str = Field(max_length=120)
    title: str | None = Field(None, max_length=80)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    wechat: str | None = Field(None, max_length=80)
    owner_id: int | None = None
    is_primary: bool = False
    notes: str | None = None


class ContactUpdate(_In):
    partner_id: int | None = None
    name: str | None = Field(None, max_length=120)
    title: str | None = Field(None, max_length=80)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    wechat: str | None = Field(None, max_length=80)
    owner_id: int | None = None
    is_primary: bool | None = None
    notes: str | None = None


class OpportunityIn(_In):
    name: str = Field(max_length=200)
    partner_id: int | None = None
    contact_id: int | None = None
    owner_id: int | None = None
    stage: str = "initial"
    expected_value: Decimal = Decimal(0)
    probability: int | None = None
    expected_close_date: dt.date | None = None
    source: str | None = None
    notes: str | None = None


class OpportunityUpdate(_In):
    name: str | None = Field(None, max_length=200)
    partner_id: int | None = None
    contact_id: int | None = None
    owner_id: int | None = None
    expected_value: Decimal | None = None
    probability: int | None = None
    expected_close_date: dt.date | None = None
    notes: str | None = None


class StageIn(_In):
    stage: str
    lost_reason: str | None = Field(None, max_length=300)


class QuoteLineIn(_In):
    product: int | str  # id or SKU
    quantity: Decimal
    unit_price: Decimal | None = None
    discount_pct: Decimal | None = None


class QuoteIn(_In):
    lines: list[QuoteLineIn] = Field(min_length=1)
    valid_until: dt.date | None = None
    notes: str | None = None


class OrderIn(_In):
    lines: list[QuoteLineIn] | None = None  # without lines: the opportunity's quote becomes the order


class ActivityIn(_In):
    kind: str = "call"
    subject: str = Field(max_length=200)
    notes: str | None = None
    owner_id: int | None = None
    due_date: dt.date | None = None
    remind_at: dt.datetime | None = None
    partner_id: int | None = None
    contact_id: int | None = None
    lead_id: int | None = None
    opportunity_id: int | None = None
    ticket_id: int | None = None
    done: bool = False
    result: str | None = None


class ActivityUpdate(_In):
    kind: str | None = None
    subject: str | None = Field(None, max_length=200)
    notes: str | None = None
    owner_id: int | None = None
    due_date: dt.date | None = None
    remind_at: dt.datetime | None = None


class ActivityDoneIn(_In):
    result: str | None = None


class TicketIn(_In):
    subject: str = Field(max_length=200)
    partner_id: int
    kind: str = "complaint"
    priority: Literal["low", "normal", "high"] = "normal"
    contact_id: int | None = None
    sales_order_id: int | None = None
    sales_order_number: str | None = Field(None, max_length=40)
    owner_id: int | None = None
    due_date: dt.date | None = None
    description: str | None = None


class TicketUpdate(_In):
    subject: str | None = Field(None, max_length=200)
    kind: str | None = None
    priority: Literal["low", "normal", "high"] | None = None
    owner_id: int | None = None
    due_date: dt.date | None = None
    description: str | None = None
    resolution: str | None = None


class TicketStateIn(_In):
    state: Literal["open", "in_progress", "resolved", "closed"]
    resolution: str | None = None


class CampaignIn(_In):
    name: str = Field(max_length=200)
    segment: str
    activity_kind: str = "call"
    message: str | None = None
    start_date: dt.date | None = None
    window_days: int = Field(30, ge=1, le=365)
    due_date: dt.date | None = None


class OwnerIn(_In):
    owner_id: int | None = None
