"""The key scheme of the one table: partition and sort keys, the listing shards, the queue
order and partitions, and the place of a ranked row. The only module that spells a key. It knows
no feature's rules: what a rank means (activities.order) or which lease a read shows (tasks.leases)
belongs to the feature.

Key parts are escaped so that joining them with '#' is injective; a tenant's keys all start with
`T#{tenant}#`. Timestamps are stored in one fixed-width UTC form, so string order is time order.
"""

from __future__ import annotations

import zlib

from baton.settings import get_settings
from baton.table import GSI_TIMERS, INDEXES

# The key scheme's version: 2 added queue order, queue entries and the sharded listing.
SCHEMA_VERSION = 7  # 3: users' load items (Keys.person); 4: searchText, dueDate and gsi7/gsi8 on queue items;
# 5: a task's entry items for the users named on it that no queue or inbox shows (Keys.named);
# 6: `standsInFor` on a delegate's user item (the users whose absence names it);
# 7: the timers of leases (on task items) and absences (on user items) in the timer index
TASK_SK = "TASK"
PERSON_SK = "LOAD"  # a user's load item (Keys.person)
HISTORY = "H#"  # the sort-key region of a task's history events
DIRECTORY_EVENTS = "DH#"  # the sort-key region of an activity's directory events (its assignee changes)
USERS, GROUPS = "USER#", "GROUP#"  # the sort-key regions of a directory partition
ACTIVITY_SK = "ACT"
QUEUED = "Q#"  # the sort-key region of claimable entries in a queue partition (and of the inbox)
PROFILE = "P#"  # before QUEUED: a user's own items at the head of its own queue partition (Keys.profile)
AAS = "ACT#AAS#"  # the sort-key region of an activity's assignment rows (in `ranked_order`)
SORT_NAME_CHARS = 64
SCHEMA_MARKER = {"pk": "BATON#META", "sk": "SCHEMA"}
# The tenant audit (gsi4): every ledger event of a tenant, in partitions by month (the UTC
# `YYYY-MM` of the event's time) and shard (from the event id), ordered by time then event id.
AUDIT_SHARDS = 32
AUDIT_BUCKET_CHARS = 7  # `YYYY-MM` of a stored timestamp
# The escalation timers: partitions of the timer index by hour bucket and shard, and the sweep's
# checkpoint (every bucket up to it has been read empty after it closed).
TIMERS = "TIMER#"
SWEPT_MARKER = {"pk": "BATON#META", "sk": "TIMERS#SWEPT"}


def esc(part: str) -> str:
    """Escape key parts so that joining them with '#' is injective."""
    return part.replace("%", "%25").replace("#", "%23")


def unesc(part: str) -> str:
    return part.replace("%23", "#").replace("%25", "%")


class Keys:
    @staticmethod
    def task(tenant: str, task_id: str) -> dict[str, str]:
        return {"pk": f"T#{esc(tenant)}#TASK#{esc(task_id)}", "sk": TASK_SK}

    @staticmethod
    def history_sk(version: int) -> str:
        return f"{HISTORY}{version:012d}"

    @staticmethod
    def directory_event_sk(version: int) -> str:
        """A directory event in its activity's partition (not `H#`: those are task events, which
        the event stream publishes)."""
        return f"{DIRECTORY_EVENTS}{version:012d}"

    @staticmethod
    def history_version(sk: str | None) -> int:
        """The version of a history sort key; 0 for anything else."""
        if not sk or not sk.startswith(HISTORY) or not sk[2:].isascii():
            return 0
        try:
            return int(sk.removeprefix(HISTORY), 10)
        except ValueError:
            return 0

    @staticmethod
    def tenant_of_task(pk: str) -> str | None:
        """The tenant of a task partition key `T#{tenant}#TASK#{taskId}` (parts escaped), else None."""
        parts = pk.split("#")
        if len(parts) != 4 or parts[0] != "T" or parts[2] != "TASK":
            return None
        return unesc(parts[1])

    @staticmethod
    def directory(tenant: str) -> str:
        return f"T#{esc(tenant)}#DIR"

    @staticmethod
    def tenant_of_directory(pk: str) -> str | None:
        """The tenant of a directory partition key `T#{tenant}#DIR`, else None."""
        parts = pk.split("#")
        if len(parts) != 3 or parts[0] != "T" or parts[2] != "DIR":
            return None
        return unesc(parts[1])

    @staticmethod
    def person(tenant: str, user_id: str) -> dict[str, str]:
        """A user's load item (its load, and the capacity and skills its conditions read): in a
        partition of its own, so the task changes that move loads spread over as many keys as
        there are users, never onto the tenant's directory partition."""
        return {"pk": f"T#{esc(tenant)}#P#{esc(user_id)}", "sk": PERSON_SK}

    @staticmethod
    def tenant_of_person(pk: str) -> str | None:
        """The tenant of a load item's partition key `T#{tenant}#P#{userId}`, else None."""
        parts = pk.split("#")
        if len(parts) != 4 or parts[0] != "T" or parts[2] != "P":
            return None
        return unesc(parts[1])

    @staticmethod
    def user_event(tenant: str, user_id: str, version: int) -> dict[str, str]:
        """A directory event of a user (its absence set or ended: directory.audit), in the user's own
        partition (its load item's), never the tenant's directory partition the user lists read."""
        return {"pk": Keys.person(tenant, user_id)["pk"], "sk": Keys.directory_event_sk(version)}

    @staticmethod
    def user(tenant: str, user_id: str) -> dict[str, str]:
        return {"pk": Keys.directory(tenant), "sk": f"{USERS}{esc(user_id)}"}

    @staticmethod
    def group(tenant: str, group_id: str) -> dict[str, str]:
        return {"pk": Keys.directory(tenant), "sk": f"{GROUPS}{esc(group_id)}"}

    @staticmethod
    def activity(tenant: str, project_id: str, activity_id: str) -> dict[str, str]:
        return {"pk": f"T#{esc(tenant)}#ACT#{esc(project_id)}#{esc(activity_id)}", "sk": ACTIVITY_SK}

    @staticmethod
    def assignee(activity_pk: str, order: str) -> dict[str, str]:
        """An assignment row: after its activity item in the partition, in list order (`ranked_order`)."""
        return {"pk": activity_pk, "sk": AAS + order}

    @staticmethod
    def project(tenant: str, project_id: str) -> dict[str, str]:
        """A project's marker, written with its activities (so an unknown project can be told apart)."""
        return {"pk": f"T#{esc(tenant)}#PRJ#{esc(project_id)}", "sk": "PRJ"}

    @staticmethod
    def tasks_index(tenant: str, status: str, shard: int) -> str:
        """A tenant's task listing, by status, spread over `list_shards` partitions."""
        return f"T#{esc(tenant)}#L#{status}#{shard}"

    @staticmethod
    def shard(task_id: str, shards: int) -> int:
        return zlib.crc32(task_id.encode()) % shards

    @staticmethod
    def assignee_index(tenant: str, user_id: str, status: str) -> str:
        return f"T#{esc(tenant)}#A#{esc(user_id)}#{status}"

    @staticmethod
    def named(tenant: str, user_id: str) -> str:
        """The open tasks naming a user that neither its queue nor its held tasks show (in the
        assignee index, gsi2, a partition of its own): those it delegated (their owner), and those
        it is a candidate user of while they are held by someone else, offered to someone, or
        automatic. Offboarding reads it (tasks.offboarding)."""
        return f"T#{esc(tenant)}#N#{esc(user_id)}"

    @staticmethod
    def user_queue(tenant: str, user_id: str) -> str:
        return f"T#{esc(tenant)}#Q#U#{esc(user_id)}"

    @staticmethod
    def profile(tenant: str, user_id: str, item: str) -> dict[str, str]:
        """The gsi3 keys of a user's own items (`USER`: its user item, `LOAD`: its load item) at the
        head of its own queue partition, before every entry: one Query reads who the user is
        (groups, capacity, load, skills) and its own queue (claim-next: tasks.claimnext)."""
        return {"gsi3pk": Keys.user_queue(tenant, user_id), "gsi3sk": f"{PROFILE}{item}"}

    @staticmethod
    def group_queue(tenant: str, group_id: str) -> str:
        return f"T#{esc(tenant)}#Q#G#{esc(group_id)}"

    @staticmethod
    def queue_entry_sk(tenant: str, queue: str) -> str:
        """The sort key of a task's entry item for one of its queues (`Q#U#{user}`, `Q#G#{group}`)."""
        return QUEUED + queue.removeprefix(f"T#{esc(tenant)}#{QUEUED}")

    @staticmethod
    def case_holds(tenant: str, case_id: str, user_id: str) -> dict[str, str]:
        """What one user has held in one case (separation of duties' ledger: tasks.separation)."""
        return {"pk": f"T#{esc(tenant)}#CASE#{esc(case_id)}", "sk": f"HELD#{esc(user_id)}"}

    @staticmethod
    def inbox(tenant: str, user_id: str) -> str:
        return f"T#{esc(tenant)}#I#{esc(user_id)}"

    @staticmethod
    def audit_index(tenant: str, bucket: str, shard: int) -> str:
        """One partition of a tenant's audit: a month (`YYYY-MM`) and a shard."""
        return f"T#{esc(tenant)}#AU#{bucket}#{shard}"

    @staticmethod
    def audit_keys(tenant: str, at: str, event_id: str) -> dict[str, str]:
        """The audit index's keys of a ledger event (its history item, or the task item that
        holds a direct claim's pending event): partition by month and shard, sort by time and id."""
        shard = zlib.crc32(event_id.encode()) % AUDIT_SHARDS
        return {"gsi4pk": Keys.audit_index(tenant, at[:AUDIT_BUCKET_CHARS], shard),
                "gsi4sk": audit_order(at, event_id)}

    @staticmethod
    def case_index(tenant: str, case_id: str) -> str:
        """A case's tasks (gsi5), in creation order."""
        return f"T#{esc(tenant)}#C#{esc(case_id)}"

    @staticmethod
    def timers(bucket: str, shard: int) -> str:
        """A partition of the timer index: the timers of one hour bucket (`timer_bucket`), one shard."""
        return f"{TIMERS}{bucket}#{shard}"

    @staticmethod
    def timer_shard(tenant: str, task_id: str, due: str, shards: int) -> int:
        """The shard of a task's timer: from tenant, task and due time, so a re-armed timer (a new
        `dueAt`, whose key moves anyway) lands anywhere, and the timers of one hour spread evenly."""
        return zlib.crc32(f"{esc(tenant)}#{esc(task_id)}#{due}".encode()) % shards

    @staticmethod
    def client_registration(client_id: str) -> dict[str, str]:
        """Where a client-credentials app client's tenant and roles are registered."""
        return {"pk": "SIGNIN#CLIENT#" + esc(client_id), "sk": "CLIENT"}


def queue_order(rank: int, due: str | None, created: str, task_id: str) -> str:
    """The queue-order sort key: `rank` ascending (0 to 999: the feature's priority, inverted),
    then dueDate ascending (none last), then createdAt ascending, then id; `~` sorts after every
    digit."""
    return f"{QUEUED}{rank:03d}#{due or '~'}#{created}#{esc(task_id)}"


def due_order(rank: int, due: str | None, created: str, task_id: str) -> str:
    """A queue's due-date order (`sort=due`): dueDate ascending (none last), then as queue order."""
    return f"{QUEUED}{due or '~'}#{rank:03d}#{created}#{esc(task_id)}"


def age_order(created: str, task_id: str) -> str:
    """A queue's age order (`sort=age`: oldest first; `sort=newest` reads it backwards)."""
    return f"{QUEUED}{created}#{esc(task_id)}"


def audit_order(at: str, event_id: str) -> str:
    """The audit's sort key: time, then event id (every id is the same length and free of
    characters below `!`, so `after + " "` is the least key above `after`)."""
    return f"{at}#{esc(event_id)}"
def timer_bucket(stamp: str) -> str:
    """The hour bucket of a stored timestamp (`2026-01-02T03`)."""
    return stamp[:13]


ABSENCE_TIMER = "absence"  # the kind of a user's absence timer (a task's timer names no kind)
TIMER_KEYS = INDEXES[GSI_TIMERS]  # the timer index's key attributes on an item


def timer_keys(tenant: str, item_id: str, due: str, written: str, kind: str | None = None) -> tuple[str, str]:
    """An item's place in the timer index (tasks.timers): the partition (the hour of the later of
    `due` and the write `written`, so that no write lands in an hour a sweep has closed; a shard
    of `timer_shards`) and the sort key: the due time, tenant and id, and the kind unless a task's."""
    shards = get_settings().timer_shards
    shard = Keys.timer_shard(tenant, item_id if kind is None else f"{item_id}#{kind}", due, shards)
    sort = f"{due}#{esc(tenant)}#{esc(item_id)}" + (f"#{kind}" if kind else "")
    return Keys.timers(timer_bucket(max(due, written)), shard), sort


def newest_order(created: str, task_id: str) -> str:
    """The listings' sort key (read descending: newest first)."""
    return f"{created}#{esc(task_id)}"


def _sort_name(name: str) -> str:
    """Case-folded, without the characters below U+0002 (the terminator sorts below all that is
    left) or lone surrogates, at most 64 characters (the key stays far below 1 KB)."""
    kept = (c for c in name.casefold() if ord(c) >= 2 and not 0xD800 <= ord(c) <= 0xDFFF)
    return "".join(kept)[:SORT_NAME_CHARS]


def ranked_order(rank: str, name: str, uid: str) -> str:
    """A row's place in a ranked list: by rank, then name (case-folded), then id (compared as
    strings in Python and as UTF-8 bytes by DynamoDB, which agree)."""
    return f"{rank}#{_sort_name(name)}\x01{esc(uid)}"
