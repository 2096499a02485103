"""What a load did, or why it wrote nothing: one FeatureError per bad feature and reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

REASONS_ZH: dict[str, str] = {
    "file_unreadable": "文件无法读取",
    "column_missing": "缺少必需字段",
    "crs_unknown": "未知坐标系",
    "geometry_missing": "缺少几何",
    "geometry_empty": "几何为空",
    "geometry_type": "几何类型错误",
    "geometry_invalid": "几何无效",
    "coordinates_out_of_range": "坐标超出范围（坐标系声明错误或经纬度颠倒？）",
    "code_missing": "缺少编码",
    "code_malformed": "编码格式错误",
    "code_parent_mismatch": "编码与上级编码不符",
    "code_duplicate": "编码重复",
    "parent_unknown": "上级不存在",
    "value_missing": "缺少必填值",
    "value_invalid": "字段值无效",
    "address_duplicate": "门牌地址重复",
    "grid_outside_community": "网格超出所属社区",
    "grid_overlap": "同一社区的网格相互重叠",
    "grid_version_order": "新版本生效时间不晚于现行版本",
    "database_rejected": "数据库拒绝写入",
}
"""Reason codes (stable, English, for machines) and their Chinese labels (for people)."""


@dataclass(frozen=True)
class FeatureError:
    """One reason why one feature (row) cannot be loaded.

    ``index`` is the 0-based position of the feature in its file or layer (for CSV/Excel the
    data row, header not counted); None when the problem concerns the whole file.
    """

    kind: str
    index: int | None
    code: str | None
    reason_code: str
    message: str
    name: str | None = None

    def describe(self) -> str:
        where = f"{self.kind} #{self.index}" if self.index is not None else self.kind
        who = "".join(
            f" {label}={value}"
            for label, value in (("code", self.code), ("name", self.name))
            if value
        )
        label = REASONS_ZH.get(self.reason_code, self.reason_code)
        return f"{where}{who}: {label} [{self.reason_code}] {self.message}"


@dataclass
class LoadReport:
    """``ok`` loads wrote ``counts`` rows per kind; failed ones wrote nothing."""

    errors: list[FeatureError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "counts": self.counts,
            "errors": [asdict(error) for error in self.errors],
        }

    def format_text(self, limit: int = 200) -> str:
        """A human-readable summary: counts when ok, else the first ``limit`` errors."""
        if self.ok:
            counts = ", ".join(f"{kind} {n:,}" for kind, n in self.counts.items())
            return f"导入成功 loaded: {counts or '0'}"
        lines = [
            f"校验失败，未写入任何数据 — load rejected, nothing written: "
            f"{len(self.errors):,} 个错误 errors"
        ]
        lines += [f"  {error.describe()}" for error in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(
                f"  … 另有 {len(self.errors) - limit:,} 个错误 more errors (--report-json)"
            )
        return "\n".join(lines)
