"""Which systems first: the four adoption stages as plain rules (no database), so the CLI, the questionnaire
page and the tests ask the same function.

Stages (from headcount; revenue and group structure refine them):

| stage | who | adds |
|---|---|---|
| 1 起步期 startup (< 30 people) | 进销存 + simple finance + light CRM | erp, crm |
| 2 成长期 growth (30–149) | orders from several channels, a real warehouse | oms, wms (and the fuller ERP) |
| 3 稳定期 stable (≥ 150) | making → MES + ERP planning; retail/distribution → TMS + deep OMS/WMS | mes / tms |
| 4 集团化 group (several companies, or ≥ 1000 people) | PLM, SRM, SCM on the integrated core | plm, srm, scm |

Pain points pull a module earlier than its stage, with the reason said. Every module recommended has a
reason; modules needed by a recommended one come with it ("前置"). `next` is what the next stage would add.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l

MODULES = ("erp", "crm", "oms", "wms", "tms", "mes", "plm", "srm", "scm")
INDUSTRIES = ("manufacturing", "retail", "distribution", "mixed")
CHANNELS = ("taobao", "tmall", "jd", "pdd", "miniapp", "offline", "douyin", "other")
PAIN_POINTS = {
    "order_aggregation": _l("多平台订单手工汇总"),
    "picking_errors": _l("发错货/找货慢"),
    "inventory_inaccuracy": _l("库存不准"),
    "late_delivery": _l("交期不准"),
    "freight_opacity": _l("运费不透明"),
    "supplier_delivery": _l("供应商交付差"),
    "bom_versions": _l("BOM 版本混乱"),
    "customer_followup": _l("客户跟进遗漏"),
    "books_mismatch": _l("账对不上"),
}
STAGE_NAMES = {1: _l("起步期"), 2: _l("成长期"), 3: _l("稳定期"), 4: _l("集团化")}
MODULE_NAMES = {
    "erp": _l("ERP 进销存与财务"), "crm": _l("CRM 客户管理"), "oms": _l("OMS 订单中心"), "wms": _l("WMS 仓储管理"),
    "tms": _l("TMS 运输管理"), "mes": _l("MES 生产执行"), "plm": _l("PLM 产品生命周期"),
    "srm": _l("SRM 供应商管理"), "scm": _l("SCM 需求与供应计划"),
}
# what each module needs switched on first (the suite's own module dependencies, in advisor codes)
PREREQUISITES = {"erp": (), "crm": ("erp",), "oms": ("erp",), "wms": ("erp",), "tms": ("erp", "oms", "wms"),
                 "mes": ("erp",), "plm": ("erp", "mes"), "srm": ("erp",), "scm": ("erp", "mes")}

FIELDS = {
    "headcount": int, "annual_revenue_cny": (int, float), "industry": str, "channels": list, "daily_orders": int,
    "skus": int, "warehouses": int, "own_production": bool, "own_fleet": bool, "multi_company": bool,
    "pain_points": list,
}
REQUIRED = ("headcount", "industry")


def stage_name(stage: int) -> str:
    return str(STAGE_NAMES[stage])


def module_label(code: str) -> str:
    return str(MODULE_NAMES[code])


def pain_label(code: str) -> str:
    return str(PAIN_POINTS[code])


class InvalidAnswers(ValueError):
    """The answers file does not follow the schema; the message says what is wrong, in Chinese."""


@dataclass
class Answers:
    headcount: int
    industry: str
    annual_revenue_cny: float | None = None
    channels: list[str] = field(default_factory=list)
    daily_orders: int = 0
    skus: int = 0
    warehouses: int = 1
    own_production: bool = False
    own_fleet: bool = False
    multi_company: bool = False
    pain_points: list[str] = field(default_factory=list)


def parse_answers(raw: Any) -> Answers:
    """Validate an answers object (ARCHITECTURE.md §4): unknown keys or codes, wrong types and impossible
    numbers are refused with a message naming the field."""
    if not isinstance(raw, dict):
        raise InvalidAnswers(_("答卷必须是 JSON 对象"))
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise InvalidAnswers(_("未知字段：{keys}（可用字段：{allowed}）", keys=", ".join(unknown),
                               allowed=", ".join(FIELDS)))
    for key in REQUIRED:
        if raw.get(key) is None:
            raise InvalidAnswers(_("缺少必填字段：{key}", key=key))
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        kind = FIELDS[key]
        if kind is int or kind == (int, float):
            if isinstance(value, bool) or not isinstance(value, kind if isinstance(kind, tuple) else (int,)):
                raise InvalidAnswers(_("{key} 必须是数字：{value}", key=key, value=repr(value)))
            if value < 0:
                raise InvalidAnswers(_("{key} 不能为负数：{value}", key=key, value=value))
        elif kind is bool and not isinstance(value, bool):
            raise InvalidAnswers(_("{key} 必须是 true 或 false：{value}", key=key, value=repr(value)))
        elif kind is str and not isinstance(value, str):
            raise InvalidAnswers(_("{key} 必须是文本：{value}", key=key, value=repr(value)))
        elif kind is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise InvalidAnswers(_("{key} 必须是文本列表：{value}", key=key, value=repr(value)))
        values[key] = value
    if values["headcount"] < 1:
        raise InvalidAnswers(_("headcount 至少为 1"))
    if values["industry"] not in INDUSTRIES:
        raise InvalidAnswers(_("industry 无效：{value}（可选：{allowed}）", value=values["industry"],
                               allowed=", ".join(INDUSTRIES)))
    bad = [c for c in values.get("channels", []) if c not in CHANNELS]
    if bad:
        raise InvalidAnswers(_("channels 中有未知渠道：{codes}（可选：{allowed}）", codes=", ".join(bad),
                               allowed=", ".join(CHANNELS)))
    bad = [p for p in values.get("pain_points", []) if p not in PAIN_POINTS]
    if bad:
        raise InvalidAnswers(_("pain_points 中有未知痛点：{codes}（可选：{allowed}）", codes=", ".join(bad),
                               allowed=", ".join(PAIN_POINTS)))
    return Answers(**values)


def stage_of(a: Answers) -> tuple[int, str]:
    """The adoption stage and why."""
    if a.multi_company:
        return 4, _("多公司/集团化经营（{headcount} 人）", headcount=a.headcount)
    if a.headcount >= 1000:
        return 4, _("{headcount} 人的规模已按集团化管理", headcount=a.headcount)
    stage = 1 if a.headcount < 30 else 2 if a.headcount < 150 else 3
    why = _("{headcount} 人，属{stage}", headcount=a.headcount, stage=stage_name(stage))
    revenue = a.annual_revenue_cny or 0
    if revenue >= 2_000_000_000 and stage < 4:
        return 4, _("年营收 {yi} 亿元，业务体量已到集团化阶段", yi=format(revenue / 1e8, ".0f"))
    if revenue >= 500_000_000 and stage < 3:
        return 3, _("{headcount} 人但年营收 {yi} 亿元，按稳定期规划", headcount=a.headcount,
                      yi=format(revenue / 1e8, ".1f"))
    if revenue >= 50_000_000 and stage < 2:
        return 2, _("{headcount} 人但年营收 {wan} 万元，按成长期规划", headcount=a.headcount,
                      wan=format(revenue / 1e4, ".0f"))
    return stage, why


def _makes(a: Answers) -> bool:
    return a.own_production or a.industry == "manufacturing"


def _ships(a: Answers) -> bool:
    return a.industry in ("retail", "distribution") or a.own_fleet or (a.industry == "mixed" and not a.own_production)


def _stage_modules(a: Answers, stage: int) -> dict[str, str]:
    """What a stage brings for this company, with the reason."""
    name = stage_name(stage)
    if stage == 1:
        return {"erp": _("{name}：进销存 + 简单财务是所有业务的底座（采购、销售、库存、应收应付一本账）", name=name),
                "crm": _("{name}：轻量客户管理——线索、跟进提醒、报价转订单，避免客户跟进遗漏", name=name)}
    if stage == 2:
        n = len(a.channels)
        return {"oms": _("{name}：{n} 个销售渠道、日均 {orders} 单，订单需要统一汇总、审核、分仓和防重发",
                         name=name, n=n, orders=a.daily_orders)
                if n else _("{name}：订单量上来后需要统一的订单中心（审核、分仓、拆合单、售后）", name=name),
                "wms": _("{name}：{skus} 个 SKU 需要库位管理、按最短路径拣货和扫码出入库", name=name, skus=a.skus)
                if a.skus else _("{name}：仓库需要库位、扫码和拣货路径，才能不发错、不找货", name=name)}
    if stage == 3:
        out = {}
        if _makes(a):
            out["mes"] = _("{name}·制造业：工单、排产、报工、设备 OEE 和批次追溯，配合 ERP 生产计划（MRP）", name=name)
        if _ships(a):
            kind = {"retail": _("零售"), "distribution": _("分销")}.get(a.industry, _("配送"))
            out["tms"] = _("{name}·{kind}：运输管理——承运商比价、电子面单、排线派车，与 OMS/WMS 深度联动", name=name,
                           kind=kind)
        if not out:
            out["mes" if a.own_production else "tms"] = _("{name}：在 ERP/OMS/WMS 之上补齐执行层", name=name)
        return out
    return {"plm": _("{name}：研发到量产的产品生命周期和 BOM 版本变更审批，各子公司用同一套物料", name=name),
            "srm": _("{name}：供应商准入、招标比价、绩效评分和供应商门户，集团统一采购", name=name),
            "scm": _("{name}：需求预测、安全库存、MRP 和多仓调拨，用数据驱动采购和生产", name=name)}


def _pain_pulls(a: Answers) -> dict[str, str]:
    pulls: dict[str, str] = {}

    def pull(module: str, pain: str, text: str) -> None:
        pulls.setdefault(module, _("痛点「{pain}」：{text}", pain=pain_label(pain), text=text))

    for pain in a.pain_points:
        if pain == "order_aggregation":
            pull("oms", pain, _("各平台订单自动汇总去重，不再手工导表"))
        elif pain == "picking_errors":
            pull("wms", pain, _("库位 + 扫码拣货 + 最短拣货路径，发错货和找货慢一起解决"))
        elif pain == "inventory_inaccuracy":
            pull("wms", pain, _("每一次出入库扫码入账，循环盘点，账实一致"))
        elif pain == "late_delivery":
            if _makes(a):
                pull("mes", pain, _("有限产能排产和报工，交期算得准、看得见"))
            else:
                pull("tms", pain, _("按时效选承运商、跟踪在途、延误预警"))
        elif pain == "freight_opacity":
            pull("tms", pain, _("运价表比价、运费对账，每单运费清清楚楚"))
        elif pain == "supplier_delivery":
            pull("srm", pain, _("供应商交付跟踪、准时率评分和整改闭环"))
        elif pain == "bom_versions":
            pull("plm", pain, _("BOM 版本受控，变更走审批，新工单自动用新版本"))
        elif pain == "customer_followup":
            pull("crm", pain, _("跟进提醒和今日待办，客户不再遗漏"))
        elif pain == "books_mismatch":
            pull("erp", pain, _("业务单据自动生成凭证，库存账和总账一致"))
    return pulls


def _scale_pulls(a: Answers) -> dict[str, str]:
    """Numbers that pull a module before its stage."""
    pulls = {}
    platforms = [c for c in a.channels if c != "offline"]
    if len(platforms) >= 3 or a.daily_orders >= 300:
        pulls["oms"] = _("规模：{n} 个线上平台、日均 {orders} 单，手工处理订单已跟不上", n=len(platforms),
                           orders=a.daily_orders)
    if a.warehouses >= 2 or a.skus >= 2000:
        pulls["wms"] = _("规模：{warehouses} 个仓库、{skus} 个 SKU，需要库位和仓间调拨管理", warehouses=a.warehouses,
                           skus=a.skus)
    if a.own_fleet:
        pulls["tms"] = _("自有车队：排线派车和司机签收需要运输管理")
    return pulls


def recommend(answers: Answers | dict) -> dict:
    """The roadmap for these answers: `{"stage", "stage_name", "stage_reason", "modules", "next", "reasons",
    "next_reasons", "prerequisites"}` — `modules` in the suite's order, every one with its reason."""
    a = answers if isinstance(answers, Answers) else parse_answers(answers)
    stage, stage_reason = stage_of(a)
    reasons: dict[str, str] = {}
    for s in range(1, stage + 1):
        for module, why in _stage_modules(a, s).items():
            reasons.setdefault(module, why)
    for source in (_pain_pulls(a), _scale_pulls(a)):
        for module, why in source.items():
            reasons.setdefault(module, why)
    # a module needs its prerequisites on too
    changed = True
    while changed:
        changed = False
        for module in list(reasons):
            for need in PREREQUISITES[module]:
                if need not in reasons:
                    reasons[need] = _("前置：{module} 依赖 {need}", module=module_label(module),
                                         need=module_label(need))
                    changed = True
    modules = [m for m in MODULES if m in reasons]
    next_reasons: dict[str, str] = {}
    if stage < 4:
        for module, why in _stage_modules(a, stage + 1).items():
            if module not in reasons:
                next_reasons[module] = why
    nxt = [m for m in MODULES if m in next_reasons]
    return {"stage": stage, "stage_name": stage_name(stage), "stage_reason": stage_reason, "modules": modules,
            "next": nxt, "reasons": {m: reasons[m] for m in modules}, "next_reasons": next_reasons,
            "prerequisites": {m: list(PREREQUISITES[m]) for m in modules + nxt}}
