"""What fits an Active-Active database (issue 19), and what a plan of one must know: its backup settings live per
region (`backup.regions`), each region is backed up on its own (`regionName`), and `backup_first` names no region
(API-NOTES §1-§3, §11). Pure: the planner asks, with the live database the refresh read."""

from __future__ import annotations

from reconciler.core.confirmation import where
from reconciler.core.desired import DatabaseSpec, OperationKind, regional_id, settings_address
from reconciler.core.live import LiveDatabase
from reconciler.core.plan import DatabaseRef, RegionalUpdate
from reconciler.core.receipt_tags import MAX_KEY_LENGTH, fits


def form_problem(spec: DatabaseSpec, db: LiveDatabase, ref: DatabaseRef) -> str | None:
    """The flat `backup:` block fits a single-region database, `backup.regions` an Active-Active one (API-NOTES §11:
    its settings live per region); which one a database is, only the live state says."""
    address = settings_address(spec.name)
    if db.regions is not None and spec.backup is not None:
        names = ", ".join(region.region for region in db.regions) or "none reported"
        return (
            f"{address}: {where(ref)} is an Active-Active database (regions: {names}), whose backup settings are "
            "per region — write them under `backup.regions`, one block per region, e.g. regions: {"
            + ", ".join(f"{region.region}: {{path: …, interval: …}}" for region in db.regions[:2])
            + "}"
        )
    if db.regions is None and spec.backup_regions is not None:
        return (
            f"{address}: {where(ref)} is a single-region database, so its backup settings have no regions — write "
            "them directly under `backup:` (path, interval, time_utc, enabled) instead of under `backup.regions`"
        )
    if db.regions is not None:
        return _operations_problem(spec, db, ref)
    regional = [b.id for b in spec.backups if b.regional]
    if regional:
        return (
            f"{spec.name}: {where(ref)} is a single-region database, so its on-demand backups take no region — "
            f"remove `region:` / `regions:` from {', '.join(regional)}"
        )
    return None


def _operations_problem(spec: DatabaseSpec, db: LiveDatabase, ref: DatabaseRef) -> str | None:
    """Each region of an Active-Active database is backed up on its own, `regionName` required (API-NOTES §3): an
    on-demand backup names its region, or all of them; `backup_first` names none, so it has no place here."""
    names = [region.region for region in db.regions or ()]
    choice = (
        f"`region: {names[0] if names else 'REGION'}` (its regions: {', '.join(names) or 'none'}) or `regions: all`"
    )
    unnamed = [b.id for b in spec.backups if not b.regional]
    if unnamed:
        return (
            f"{spec.name}: {where(ref)} is an Active-Active database, whose regions are each backed up on their own — "
            f"give {', '.join(unnamed)} {choice}"
        )
    strange = [f"{b.id} (region {b.region!r})" for b in spec.backups if b.region is not None and b.region not in names]
    if strange:
        return f"{spec.name}: {where(ref)} has no such region for {', '.join(strange)} — write {choice}"
    first = [i.id for i in spec.imports if i.backup_first]
    if first:
        return (
            f"{spec.name}: `backup_first` of {', '.join(first)} cannot say which region of the Active-Active "
            f"{where(ref)} to back up — remove it, and declare the backups before the import under `backups:` "
            "with `regions: all`"
        )
    unfit = [
        regional_id(b.id, region)
        for b in spec.backups
        for region in names
        if (b.all_regions or b.region == region) and not fits(OperationKind.BACKUP, regional_id(b.id, region))
    ]
    if unfit:
        return (
            f"{spec.name}: the receipt tag key `rcr_backup_<id>@<region>` of {', '.join(unfit)} would break the tag "
            f"rules ({MAX_KEY_LENGTH} characters at most; lowercase letters, digits and - _ . + @ :) — shorten the "
            "backup's id"
        )
    return None


def regions_on(db: LiveDatabase, update: RegionalUpdate | None) -> dict[str, bool]:
    """Whether each region of an Active-Active database backs up, after this plan's update of its regions."""
    on = {region.region: region.backup.enabled for region in db.regions or ()}
    return on | {region.region: region.after.enabled for region in update.regions} if update else on
