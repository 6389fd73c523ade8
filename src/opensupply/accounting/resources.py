"""The chart of accounts as a plain record: list, search, edit, import/export."""

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.resource import Field, Resource, register

from .models import Account

TYPES = (("asset", _l("资产")), ("liability", _l("负债")), ("equity", _l("所有者权益")), ("cost", _l("成本")),
         ("income", _l("收入")), ("expense", _l("费用")))


def _validate(uow, obj, data):
    if not (obj.code or "").isdigit():
        raise ValidationFailed(_("科目编码只能是数字"), field="code")
    if len(obj.code) > 4:
        obj.parent_code = obj.code[:4]


accounts = register(Resource(
    name="accounts", model=Account, label=_l("会计科目"), key="code", module="accounting", api_prefix="accounting",
    read_permission="accounting.read", write_permission="accounting.write", default_sort="code", validate=_validate,
    fields=[
        Field("code", _l("科目编码"), required=True, search=True, max_length=20),
        Field("name", _l("科目名称"), required=True, search=True, max_length=120),
        Field("account_type", _l("类别"), "choice", choices=TYPES, required=True, filter=True),
        Field("balance_side", _l("余额方向"), "choice", required=True,
              choices=(("debit", _l("借")), ("credit", _l("贷")))),
        Field("partner_required", _l("往来核算"), "bool"),
    ]))
