"""Warehouse layout: the classic rectangular picking area, as plain data (no database).

The floor is a set of parallel vertical aisles (x = 0, spacing, 2·spacing, … measured on the aisle
centre lines) crossed by horizontal cross-aisles: one at the front (y = 0, where the depot is), one
between each pair of blocks and one at the back. A picker walks aisle centre lines and cross-aisle
centre lines only; every aisle runs through every block, so the walking graph is a full grid of
aisle/cross-aisle crossings with the bins hanging off the aisle segments.

Bins stand on both sides of an aisle. Along one side the aisle's `bins_per_side` bins are shared out
over the blocks (the first blocks take one more when the split is uneven); positions count along the
whole aisle from the front, left side odd and right side even, so `A-03-07` is aisle 3, the 4th bin
from the front on the left. A bin's pick point is (aisle centre x, bin centre y); both sides of an
aisle share it.

    spec = LayoutSpec(zone="A", aisles=10, bins_per_side=25, blocks=1)
    bins = generate(spec)                     # BinGeom(code, block, aisle, side, position, level, x, y)
    geo = Geometry.from_spec(spec)
    geo.distance(geo.depot, (bins[0].x, bins[0].y))   # exact walking distance on that graph
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _

EPS = 1e-6


@dataclass(frozen=True)
class LayoutSpec:
    zone: str = "A"
    blocks: int = 1
    aisles: int = 10
    bins_per_side: int = 25  # per aisle side, over all blocks
    levels: int = 1
    bin_width_m: float = 1.0
    aisle_spacing_m: float = 3.0  # centre to centre
    cross_aisle_m: float = 2.0
    depot: tuple[float, float] | None = None  # default: front left, (0, 0)

    def __post_init__(self):
        zone = str(self.zone or "").strip().upper()
        object.__setattr__(self, "zone", zone)
        if self.depot is not None:
            object.__setattr__(self, "depot", (float(self.depot[0]), float(self.depot[1])))
        if not zone or len(zone) > 6 or not zone.replace("_", "").isalnum():
            raise ValidationFailed(_("库区编码须为 1–6 位字母或数字：{zone}", zone=self.zone), field="zone")
        for name, low, high in (("blocks", 1, 10), ("aisles", 1, 99), ("levels", 1, 9)):
            value = getattr(self, name)
            if not isinstance(value, int) or not low <= value <= high:
                raise ValidationFailed(_("{name} 须为 {low}–{high} 的整数", name=name, low=low, high=high), field=name)
        if not isinstance(self.bins_per_side, int) or not self.blocks <= self.bins_per_side <= 49:
            raise ValidationFailed(_("每侧库位数须为 {low}–49 的整数（每个区块至少一个）", low=self.blocks),
                                   field="bins_per_side")
        for name in ("bin_width_m", "aisle_spacing_m", "cross_aisle_m"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value <= 100:
                raise ValidationFailed(_("{name} 须为大于 0 的米数", name=name), field=name)

    @property
    def depot_xy(self) -> tuple[float, float]:
        return self.depot if self.depot is not None else (0.0, 0.0)

    def block_sizes(self) -> list[int]:
        """Bins per side in each block, front block first."""
        base, extra = divmod(self.bins_per_side, self.blocks)
        return [base + (1 if b < extra else 0) for b in range(self.blocks)]

    @property
    def bin_count(self) -> int:
        return self.aisles * 2 * self.bins_per_side * self.levels

    def to_dict(self) -> dict:
        out = asdict(self)
        out["depot"] = list(self.depot_xy)
        return out

    @classmethod
    def from_dict(cls, data: dict | None) -> LayoutSpec:
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"aisle_width_m"})
        if unknown:
            raise ValidationFailed(_("未知的布局参数：{names}", names=", ".join(unknown)))
        if "aisle_width_m" in data and "aisle_spacing_m" not in data:  # the model docstring's older name
            data["aisle_spacing_m"] = data.pop("aisle_width_m")
        data.pop("aisle_width_m", None)
        kwargs = {}
        for f in fields(cls):
            if f.name not in data or data[f.name] in (None, ""):
                continue
            value = data[f.name]
            try:
                if f.name in ("blocks", "aisles", "bins_per_side", "levels"):
                    if isinstance(value, float) and not value.is_integer():
                        raise ValueError
                    value = int(value)
                elif f.name.endswith("_m"):
                    value = float(value)
                elif f.name == "depot":
                    if isinstance(value, str):
                        value = [v for v in value.replace("，", ",").split(",")]
                    value = (float(value[0]), float(value[1]))
                else:
                    value = str(value)
            except (TypeError, ValueError, IndexError):
                raise ValidationFailed(_("布局参数 {name} 无效：{value}", name=f.name, value=value),
                                       field=f.name) from None
            kwargs[f.name] = value
        return cls(**kwargs)


@dataclass(frozen=True)
class BinGeom:
    code: str
    block: int  # 0 = front block
    aisle: int  # 1-based
    side: int  # 0 left / 1 right
    position: int  # 1-based along the aisle from the front (left odd, right even)
    level: int
    x: float
    y: float

    @property
    def point(self) -> tuple[float, float]:
        return (self.x, self.y)


def bin_code(zone: str, aisle: int, position: int, level: int | None = None) -> str:
    code = f"{zone}-{aisle:02d}-{position:02d}"
    return f"{code}-{level}" if level is not None else code


def generate(spec: LayoutSpec) -> list[BinGeom]:
    """Every bin of the layout, aisle by aisle, front to back, left before right, low level first."""
    geo = Geometry.from_spec(spec)
    out: list[BinGeom] = []
    for a in range(1, spec.aisles + 1):
        x = geo.aisle_x[a - 1]
        k = 0
        for block, n in enumerate(spec.block_sizes()):
            y0 = geo.cross_y[block] + spec.cross_aisle_m / 2
            for i in range(n):
                k += 1
                y = round(y0 + (i + 0.5) * spec.bin_width_m, 6)
                for side in (0, 1):
                    position = 2 * (k - 1) + side + 1
                    for level in range(1, spec.levels + 1):
                        code = bin_code(spec.zone, a, position, level if spec.levels > 1 else None)
                        out.append(BinGeom(code, block, a, side, position, level, x, y))
    return out


@dataclass(frozen=True)
class Geometry:
    """The walking graph of a layout: aisle centre xs, cross-aisle centre ys (front first) and the
    depot. `distance` is the exact shortest walk between two points on that graph."""

    aisle_x: tuple[float, ...]
    cross_y: tuple[float, ...]  # blocks + 1 values, front (0) to back
    depot: tuple[float, float] = (0.0, 0.0)
    spec: LayoutSpec | None = field(default=None, compare=False)

    @classmethod
    def from_spec(cls, spec: LayoutSpec) -> Geometry:
        xs = tuple(round(i * spec.aisle_spacing_m, 6) for i in range(spec.aisles))
        ys = [0.0]
        for n in spec.block_sizes():
            ys.append(round(ys[-1] + spec.cross_aisle_m + n * spec.bin_width_m, 6))
        return cls(xs, tuple(ys), spec.depot_xy, spec)

    @property
    def blocks(self) -> int:
        return len(self.cross_y) - 1

    @property
    def width(self) -> float:
        return self.aisle_x[-1] - self.aisle_x[0]

    # -- where a point is ------------------------------------------------
    def locate(self, p: tuple[float, float]) -> tuple[str, int, int]:
        """("cross", cross-aisle index, -1) for a point on a cross-aisle, else ("aisle", aisle index
        (0-based), block index). Points off the centre lines snap to the nearest aisle."""
        x, y = p
        for c, yc in enumerate(self.cross_y):
            if abs(y - yc) <= EPS:
                return ("cross", c, -1)
        if y < self.cross_y[0] or y > self.cross_y[-1]:
            raise ValidationFailed(_("坐标不在仓库内：({x}, {y})", x=x, y=y))
        block = next(b for b in range(self.blocks) if y < self.cross_y[b + 1])
        aisle = min(range(len(self.aisle_x)), key=lambda i: abs(self.aisle_x[i] - x))
        return ("aisle", aisle, block)

    def snap(self, p: tuple[float, float]) -> tuple[float, float]:
        kind, idx, _block = self.locate(p)
        return (float(p[0]), self.cross_y[idx]) if kind == "cross" else (self.aisle_x[idx], float(p[1]))

    def _exits(self, p: tuple[float, float]) -> list[tuple[float, int, float]]:
        """(x, cross-aisle index, walking metres to get there) for the ways out of a point."""
        kind, idx, block = self.locate(p)
        if kind == "cross":
            return [(float(p[0]), idx, 0.0)]
        x = self.aisle_x[idx]
        return [(x, block, p[1] - self.cross_y[block]), (x, block + 1, self.cross_y[block + 1] - p[1])]

    def _across(self, x1: float, c1: int, x2: float, c2: int) -> float:
        if c1 == c2:
            return abs(x1 - x2)
        lo, hi = min(x1, x2), max(x1, x2)
        if any(lo - EPS <= xa <= hi + EPS for xa in self.aisle_x):
            horizontal = hi - lo
        else:
            horizontal = min(abs(x1 - xa) + abs(xa - x2) for xa in self.aisle_x)
        return horizontal + abs(self.cross_y[c1] - self.cross_y[c2])

    def distance(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        return self._between(a, self.locate(a), self._exits(a), b, self.locate(b), self._exits(b))

    def _between(self, a, la, ea, b, lb, eb) -> float:
        if la[0] == lb[0] == "aisle" and la[1] == lb[1] and la[2] == lb[2]:
            return abs(a[1] - b[1])
        best = math.inf
        for xa, ca, da in ea:
            for xb, cb, db in eb:
                best = min(best, da + self._across(xa, ca, xb, cb) + db)
        return best

    def matrix(self, points: list[tuple[float, float]]) -> list[list[float]]:
        """All pairwise walking distances (each point located once)."""
        n = len(points)
        locs = [self.locate(p) for p in points]
        exits = [self._exits(p) for p in points]
        out = [[0.0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                out[i][j] = out[j][i] = self._between(points[i], locs[i], exits[i], points[j], locs[j], exits[j])
        return out

    def tour_length(self, points: list[tuple[float, float]], order: list[int],
                    depot: tuple[float, float] | None = None) -> float:
        """Depot → points in `order` → depot."""
        d = depot if depot is not None else self.depot
        path = [d] + [points[i] for i in order] + [d]
        return sum(self.distance(path[k], path[k + 1]) for k in range(len(path) - 1))
