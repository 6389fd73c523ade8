"""The driver page `/tms/driver` (phone first, big targets): today's stops in order with address, phone and a
navigation link (高德 URI from the coordinates), buttons 到达 / 已送达 / 未送达 (reason required), the
proof-of-delivery photo upload, and GPS pings from the browser's geolocation (to `POST /api/v1/tms/gps`).
`/tms/pod/{stop_id}` serves a photo to the stop's driver or a TMS reader. Thin: `tms.dispatch`."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import dispatch, fleet, planning

router = APIRouter(prefix="/tms", include_in_schema=False)
DRIVE = Depends(page_permission("tms.drive"))


def nav_url(lat: float | None, lon: float | None, name: str | None) -> str | None:
    """A 高德地图 marker URI (opens the app on a phone, the web map elsewhere)."""
    if lat is None or lon is None:
        return None
    q = urllib.parse.urlencode({"position": f"{lon:.6f},{lat:.6f}", "name": name or "", "src": "opensupply",
                                "coordinate": "gaode", "callnative": 1})
    return f"https://uri.amap.com/marker?{q}"


@router.get("/driver")
def driver_page(p: Page = DRIVE, all_days: int = 0):
    with UnitOfWork(p.actor, readonly=True) as uow:
        driver = fleet.driver_for_user(uow, p.actor.user_id)
        today = company_today(uow)
        routes = []
        if driver:
            for r in dispatch.driver_routes(uow, driver.id, None if all_days else today):
                plan = planning.plan_dict(uow, planning.get_plan(uow, r.plan_id))
                route = next(x for x in plan["routes"] if x["id"] == r.id)
                route["day"] = plan["day"]
                for s in route["stops"]:
                    s["nav"] = nav_url(s["lat"], s["lon"], s["receiver"])
                routes.append(route)
    todo = sum(1 for r in routes for s in r["stops"] if s["status"] in ("pending", "arrived"))
    return render(p, "tms/driver.html", title=_("司机任务"), driver=driver, routes=routes, today=today.isoformat(),
                  todo=todo, all_days=all_days)


def _driver_id(uow: UnitOfWork, p: Page) -> int | None:
    d = fleet.driver_for_user(uow, p.actor.user_id)
    return d.id if d else None


@router.post("/driver/stops/{stop_id}")
async def driver_action(stop_id: int, request: Request, p: Page = DRIVE):
    form = await request.form()
    action = form.get("action")
    back = "/tms/driver" + (f"?all_days=1#stop-{stop_id}" if form.get("all_days") else f"#stop-{stop_id}")

    def run():
        with UnitOfWork(p.actor) as uow:
            did = _driver_id(uow, p)
            if action == "arrive":
                dispatch.mark_arrived(uow, stop_id, did)
                return _("已到达")
            if action == "deliver":
                dispatch.mark_delivered(uow, stop_id, did)
                return _("已送达")
            if action == "fail":
                dispatch.mark_failed(uow, stop_id, did, form.get("reason") or "")
                return _("已记录未送达")
            raise ValidationFailed(_("未知操作"))

    try:
        message = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(back, exc.message, "error")
    return redirect(back, message)


@router.post("/driver/stops/{stop_id}/pod")
async def driver_pod(stop_id: int, request: Request, p: Page = DRIVE):
    form = await request.form()
    upload = form.get("file")
    limit = dispatch.POD_MAX_BYTES + 1

    def run():
        data = upload.file.read(limit) if upload is not None and getattr(upload, "filename", "") else b""
        with UnitOfWork(p.actor) as uow:
            dispatch.save_pod(uow, stop_id, _driver_id(uow, p), getattr(upload, "filename", "") or "", data)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/tms/driver#stop-{stop_id}", exc.message, "error")
    return redirect(f"/tms/driver#stop-{stop_id}", _("签收照片已上传"))


@router.get("/pod/{stop_id}")
def pod_photo(stop_id: int, p: Page = Depends(page)):
    with UnitOfWork(p.actor, readonly=True) as uow:
        path, media = dispatch.pod_file(uow, stop_id, p.actor)
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=300",
                                                        "X-Content-Type-Options": "nosniff"})
