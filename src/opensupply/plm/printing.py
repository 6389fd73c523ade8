"""Printable ECO (工程变更单): header, reason, the diff of the two versions, approvals with who and when,
and signature lines — rendered to PDF (A4, CJK fonts) to file with the drawings or post on the line."""

from __future__ import annotations

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import models as md
from opensupply.mes import work_orders as mes_wo
from opensupply.web.pdf import render_pdf

from . import eco


def eco_pdf(actor: Actor, eco_id: int) -> tuple[str, bytes]:
    with UnitOfWork(actor, readonly=True) as uow:
        e = eco.get_eco(uow, eco_id)
        data = eco.eco_to_dict(uow, e)
        diff = eco.eco_diff(uow, e).as_dict()
        open_wos = [mes_wo.work_order_to_dict(uow, wo, detail=False) for wo in eco.open_work_orders(uow, e)]
        company = uow.session.get(md.Company, uow.company_id)
        ctx = {"eco": data, "diff": diff, "open_work_orders": open_wos,
               "company": {"name": company.name, "address": company.address, "phone": company.phone}}
    return data["number"], render_pdf("plm/eco_print.html", **ctx)
