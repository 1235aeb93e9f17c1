"""ProcessMaker activity-assignee routes: every route, status and message of the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ADMIN, TENANT, call, seed
from tests.support.processmaker import BASE, PM, SUB, assign, pm

ALICE = {"aas_uid": "alice", "aas_name": "Alice", "aas_lastname": "Test", "aas_username": "alice",
         "aas_type": "user"}
OPS = {"aas_uid": "ops", "aas_name": "Operations (2 Users)", "aas_lastname": "",
       "aas_username": "Operations (2 Users)", "aas_type": "group"}


def bad_request(message: str) -> dict[str, Any]:
    return {"error": {"code": 400, "message": f"Bad Request: {message}"}}


@pytest.fixture
def seeded(backend: str) -> None:
    seed()


@pytest.mark.usefixtures("seeded")
class TestRoutes:
    def test_list_assignees(self) -> None:
        r = pm("GET", BASE + "/assignee")
        assert r.status == 200 and r.body == [OPS, ALICE]  # groups by title, then users by first name

    def test_paged_assignees(self) -> None:
        r = pm("GET", BASE + "/assignee/paged")
        assert r.body == {"total": 2, "start": 0, "limit": 0, "filter": "", "data": [OPS, ALICE]}
        r = pm("GET", BASE + "/assignee/paged", query={"start": "1", "limit": "1"})
        assert r.body == {"total": 2, "start": 1, "limit": 1, "filter": "", "data": [ALICE]}
        r = pm("GET", BASE + "/assignee/paged", query={"filter": "OPER"})
        assert r.body == {"total": 1, "start": 0, "limit": 0, "filter": "OPER", "data": [OPS]}

    def test_available_assignees(self) -> None:
        r = pm("GET", BASE + "/available-assignee")
        assert [a["aas_uid"] for a in r.body] == ["bob", "carol", "dave", "root"]
        r = pm("GET", BASE + "/available-assignee/paged", query={"limit": "2", "start": "1"})
        assert r.body["total"] == 4 and [a["aas_uid"] for a in r.body["data"]] == ["carol", "dave"]

    def test_get_one(self) -> None:
        assert pm("GET", BASE + "/assignee/ops").body == {**OPS, "aas_username": ""}  # as the server answers one
        r = pm("GET", BASE + "/assignee/bob")
        assert r.status == 400 and r.body == bad_request("Record not found for id: bob")

    def test_all_users_expands_groups_once(self) -> None:
        r = pm("GET", BASE + "/assignee/all")
        assert r.status == 200 and [a["aas_uid"] for a in r.body] == ["alice", "bob"]
        assert all(a["aas_type"] == "user" for a in r.body)

    def test_assign_then_remove(self) -> None:
        r = pm("POST", BASE + "/assignee", {"aas_uid": "carol", "aas_type": "user", "aas_name": "ignored"}, PM)
        assert r.status == 201 and r.body == ""
        assert "carol" in [a["aas_uid"] for a in pm("GET", BASE + "/assignee").body]
        assert "carol" not in [a["aas_uid"] for a in pm("GET", BASE + "/available-assignee").body]
        r = pm("DELETE", BASE + "/assignee/carol", roles=PM)
        assert r.status == 200 and r.body == ""
        r = pm("DELETE", BASE + "/assignee/carol", roles=PM)
        assert r.status == 400 and r.body == bad_request("This row does not exist!")

    def test_total_is_kept_by_every_write_and_only_by_successful_ones(self) -> None:
        def total() -> int:
            r = pm("GET", BASE + "/assignee/paged", query={"limit": "1"})
            assert r.status == 200
            return int(r.body["total"])

        assert total() == 2
        assert pm("POST", BASE + "/assignee", {"aas_uid": "carol", "aas_type": "user"}, PM).status == 201
        assert total() == 3
        for refused in ({"aas_uid": "carol", "aas_type": "user"}, {"aas_uid": "nobody", "aas_type": "user"},
                        {"aas_uid": "ops", "aas_type": "user"}):
            assert pm("POST", BASE + "/assignee", refused, PM).status == 400
        assert pm("DELETE", BASE + "/assignee/nobody", roles=PM).status == 400
        assert total() == 3
        r = call("PUT", "/api/v1/projects/prj/activities/act", {"name": "Renamed"}, user="root", roles=ADMIN)
        assert r.status == 200 and total() == 3  # an update keeps the assignees and their count
        assert pm("DELETE", BASE + "/assignee/carol", roles=PM).status == 200
        assert total() == 2 == len(pm("GET", BASE + "/assignee").body)

    @pytest.mark.parametrize("query", [{"start": str(10**12), "limit": "10"}, {"limit": str(10**12)},
                                       {"start": str(2**31), "limit": str(2**31)}, {"start": str(10**30)}])
    def test_huge_paging_is_an_empty_or_whole_page(self, query: dict[str, str]) -> None:
        r = pm("GET", BASE + "/assignee/paged", query=query)
        assert r.status == 200 and r.body["total"] == 2
        assert r.body["data"] == ([] if "start" in query else [OPS, ALICE])

    def test_assign_twice_is_the_pages_400(self) -> None:
        r = pm("POST", BASE + "/assignee", {"aas_uid": "alice", "aas_type": "user"}, ADMIN)
        assert r.status == 400 and r.body == bad_request("This ID: alice is already assigned to task: act")

    def test_assign_unknown_or_mistyped_is_400(self) -> None:
        for body in ({"aas_uid": "ghost", "aas_type": "user"}, {"aas_uid": "bob", "aas_type": "group"},
                     {"aas_uid": "carol", "aas_type": "group"}):
            r = pm("POST", BASE + "/assignee", body, PM)
            assert r.status == 400 and r.body == bad_request(
                f"This id: {body['aas_uid']} does not correspond to a registered {body['aas_type']}")
        r = pm("POST", BASE + "/assignee", {"aas_uid": "bob", "aas_type": "robot"}, PM)
        assert r.status == 400 and r.body == bad_request(
            "Invalid value specified for `aas_type`. Expected one of (user,group).")
        for body in ({"aas_type": "user"}, {"aas_uid": "", "aas_type": "user"}):
            r = pm("POST", BASE + "/assignee", body, PM)
            assert r.status == 400 and r.body == bad_request("`aas_uid` is required.")
        r = pm("POST", BASE + "/assignee", {"aas_uid": "bob", "aas_type": "user", "x": 1}, PM)
        assert r.status == 400

    def test_writes_need_pm_factory_or_admin(self) -> None:
        for roles in ((), ("operations",), ("apiwrite",)):
            r = pm("POST", BASE + "/assignee", {"aas_uid": "bob", "aas_type": "user"}, roles)
            assert r.status == 403 and r.body["error"]["code"] == 403
            assert pm("DELETE", BASE + "/assignee/alice", roles=roles).status == 403
        assert pm("POST", BASE + "/assignee", {"aas_uid": "bob", "aas_type": "user"}, ADMIN).status == 201

    def test_subprocess_lists_nobody_and_offers_everyone(self) -> None:
        assert pm("GET", SUB + "/assignee").body == []
        assert pm("GET", SUB + "/assignee/paged").body["total"] == 0
        assert pm("GET", SUB + "/assignee/all").body == []
        assert len(pm("GET", SUB + "/available-assignee").body) == 6  # 5 users + 1 group
        r = pm("POST", SUB + "/assignee", {"aas_uid": "bob", "aas_type": "user"}, PM)
        assert r.status == 400 and "subprocess" in r.body["error"]["message"]

    def test_unknown_project_or_activity_is_the_servers_400_another_workspace_404(self) -> None:
        unknown_project = bad_request("The project with prj_uid: nope does not exist.")
        unknown_activity = bad_request("The activity with act_uid: nope does not exist.")
        for route in ("/assignee", "/assignee/paged", "/available-assignee", "/available-assignee/paged"):
            r = pm("GET", f"/api/1.0/{TENANT}/project/nope/activity/act" + route)
            assert (r.status, r.body) == (400, unknown_project), route
            r = pm("GET", f"/api/1.0/{TENANT}/project/prj/activity/nope" + route)
            assert (r.status, r.body) == (400, unknown_activity), route
        quoted = bad_request("The activity with act_uid: 'nope', does not exist.")
        nope = f"/api/1.0/{TENANT}/project/prj/activity/nope"
        for method, route, body in (("GET", "/assignee/alice", None), ("GET", "/assignee/all", None),
                                    ("POST", "/assignee", {"aas_uid": "bob", "aas_type": "user"}),
                                    ("DELETE", "/assignee/alice", None)):
            r = pm(method, nope + route, body, roles=PM)
            assert (r.status, r.body) == (400, quoted), (method, route)
        r = pm("GET", "/api/1.0/elsewhere/project/prj/activity/act/assignee")
        assert r.status == 404 and r.body["error"]["code"] == 404
        assert pm("DELETE", "/api/1.0/other/project/prj/activity/act/assignee/alice", roles=PM).status == 404

    @pytest.mark.parametrize("query", [{"start": "-1"}, {"limit": "-5"}, {"start": "x"}, {"limit": "1.5"}])
    def test_bad_paging_is_400(self, query: dict[str, str]) -> None:
        for route in ("/assignee", "/assignee/paged", "/available-assignee/paged", "/assignee/all"):
            r = pm("GET", BASE + route, query=query)
            name = next(iter(query))
            assert (r.status, r.body) == (400, bad_request(
                f'Invalid value for "{name}". Expecting positive integer value.')), (route, r)

    def test_directory_changes_show_in_lists(self) -> None:
        call("PUT", "/api/v1/groups/ops", {"name": "Ops crew", "members": ["alice", "bob", "carol"]},
             user="root", roles=ADMIN)
        names = [a["aas_name"] for a in pm("GET", BASE + "/assignee").body]
        assert "Ops crew (3 Users)" in names
        assert [a["aas_uid"] for a in pm("GET", BASE + "/assignee/all").body] == ["alice", "bob", "carol"]

    def test_task_created_for_the_activity_gets_its_assignees(self) -> None:
        r = call("POST", "/api/v1/tasks", {"name": "x", "projectId": "prj", "activityId": "act"},
                 user="root", roles=ADMIN)
        assert r.status == 201
        assert r.body["candidateUsers"] == ["alice"] and r.body["candidateGroups"] == ["ops"]


def test_non_ascii_filter(moto_table: str) -> None:
    seed()
    call("PUT", "/api/v1/users/zoe", {"username": "zoe", "firstname": "Zoë", "lastname": "STRAßE"},
         user="root", roles=ADMIN)
    pm("POST", BASE + "/assignee", {"aas_uid": "zoe", "aas_type": "user"}, PM)
    for needle in ("zoË", "strasse", "Straße"):
        r = pm("GET", BASE + "/assignee/paged", query={"filter": needle})
        assert [a["aas_uid"] for a in r.body["data"]] == ["zoe"], needle


def test_all_lists_a_user_in_two_groups_and_direct_once(moto_table: str) -> None:
    seed()
    call("PUT", "/api/v1/groups/g2", {"name": "Two", "members": ["alice", "carol"]}, user="root", roles=ADMIN)
    pm("POST", BASE + "/assignee", {"aas_uid": "g2", "aas_type": "group"}, PM)
    r = pm("GET", BASE + "/assignee/all")
    uids = [a["aas_uid"] for a in r.body]
    assert uids == ["alice", "bob", "carol"]


# ---- the server's behaviour, row by row (../shared/spec/processmaker-source-behaviour.md) ---------

def put_user(uid: str, first: str, active: bool = True, last: str = "Test") -> None:
    r = call("PUT", f"/api/v1/users/{uid}", {"username": uid, "firstname": first, "lastname": last,
                                              "active": active}, user="root", roles=ADMIN)
    assert r.status in (200, 201), r


def put_group(gid: str, name: str, members: list[str]) -> None:
    r = call("PUT", f"/api/v1/groups/{gid}", {"name": name, "members": members}, user="root", roles=ADMIN)
    assert r.status in (200, 201), r


def uids(route: str = "/assignee", **query: str) -> list[str]:
    r = pm("GET", BASE + route, query=query or None)
    assert r.status == 200, r
    body = r.body["data"] if isinstance(r.body, dict) else r.body
    return [a["aas_uid"] for a in body]


@pytest.fixture
def directory(moto_table: str) -> None:
    """act: groups ops (Operations: alice, bob), zz (Admins: carol), aa (Zulu: nobody); users alice
    (Alice), carol (Carol), erin (erin), bea (Bea, inactive); available: dave, root, frank (Frank)."""
    seed()
    put_user("erin", "erin")
    put_user("bea", "Bea")
    put_user("frank", "Frank")
    put_group("zz", "Admins", ["carol"])
    put_group("aa", "Zulu", [])
    for uid, kind in (("zz", "group"), ("aa", "group"), ("carol", "user"), ("erin", "user"), ("bea", "user")):
        assign("act", uid, kind)
    put_user("bea", "Bea", active=False)


@pytest.mark.usefixtures("directory")
class TestServerBehaviour:
    def test_groups_by_title_then_users_by_first_name(self) -> None:
        assert uids() == ["zz", "ops", "aa", "alice", "carol", "erin"]
        assert uids("/assignee/paged", start="2", limit="2") == ["aa", "alice"]
        assert uids("/available-assignee") == ["bob", "dave", "frank", "root"]  # no free group; bea inactive

    def test_paging_echo_total_and_limit_zero(self) -> None:
        r = pm("GET", BASE + "/assignee/paged", query={"start": "+1", "limit": "2", "filter": ""})
        assert (r.body["total"], r.body["start"], r.body["limit"], r.body["filter"]) == (6, 1, 2, "")
        for route in ("/assignee/paged", "/available-assignee/paged"):
            assert pm("GET", BASE + route, query={"limit": "0"}).body == {
                "total": 0, "start": 0, "limit": 0, "filter": "", "data": []}
        assert pm("GET", BASE + "/assignee", query={"limit": "0"}).body == []
        assert len(uids("/assignee")) == 6  # absent: no limit

    @pytest.mark.parametrize(("query", "name"), [({"start": "01"}, "start"), ({"limit": "+-1"}, "limit"),
                                                 ({"start": "-1", "limit": "x"}, "start"), ({"limit": " 1"}, "limit")])
    def test_paging_values_as_the_server_checks_them(self, query: dict[str, str], name: str) -> None:
        r = pm("GET", BASE + "/assignee/paged", query=query)
        message = f'Invalid value for "{name}". Expecting positive integer value.'
        assert (r.status, r.body) == (400, bad_request(message))

    def test_filters_and_type(self) -> None:
        assert uids(filter="ER") == ["ops", "erin"]  # Operations; erin
        assert uids(lfilter="a") == ["zz", "alice"]  # Admins; Alice
        assert uids(rfilter="S") == ["zz", "ops"] and uids(rfilter="in") == ["erin"]
        assert uids(filter="zulu", lfilter="a", rfilter="n") == ["aa"]  # filter wins
        assert uids(lfilter="a", rfilter="n") == ["zz", "alice"]  # lfilter over rfilter
        assert uids(type="group") == ["zz", "ops", "aa"] and uids(type="user") == ["alice", "carol", "erin"]
        assert uids(type="robot") == []
        r = pm("GET", BASE + "/assignee/paged", query={"type": "user", "limit": "2", "start": "1"})
        assert r.body["total"] == 3 and [a["aas_uid"] for a in r.body["data"]] == ["carol", "erin"]
        assert uids("/available-assignee", type="group") == [] and uids("/available-assignee", lfilter="f") == ["frank"]

    def test_display_names(self) -> None:
        names = {a["aas_uid"]: (a["aas_name"], a["aas_username"], a["aas_lastname"])
                 for a in pm("GET", BASE + "/assignee").body}
        assert names["zz"] == ("Admins (1 User)", "Admins (1 User)", "")
        assert names["aa"] == ("Zulu (0 Users)", "Zulu (0 Users)", "")
        assert pm("GET", BASE + "/assignee/zz").body == {"aas_uid": "zz", "aas_name": "Admins (1 User)",
                                                         "aas_lastname": "", "aas_username": "", "aas_type": "group"}

    def test_all_is_users_only_group_members_first_each_once(self) -> None:
        r = pm("GET", BASE + "/assignee/all")
        assert [a["aas_uid"] for a in r.body] == ["carol", "alice", "bob", "erin"]
        assert {a["aas_type"] for a in r.body} == {"user"}
        assert uids("/assignee/all", start="1", limit="2") == ["alice", "bob"]

    def test_available_keeps_members_of_assigned_groups_and_subprocess_offers_everyone(self) -> None:
        assert "bob" in uids("/available-assignee")  # in ops, which is assigned: still available
        r = pm("GET", SUB + "/available-assignee")
        assert [a["aas_uid"] for a in r.body] == ["zz", "ops", "aa", "alice", "bob", "carol", "dave", "erin",
                                                  "frank", "root"]

    def test_inactive_users_are_never_listed_and_not_counted(self) -> None:
        assert "bea" not in uids() and "bea" not in uids("/available-assignee")
        assert pm("GET", BASE + "/assignee/paged", query={"limit": "10"}).body["total"] == 6
        r = pm("GET", BASE + "/assignee/bea")
        assert (r.status, r.body) == (400, bad_request("Record not found for id: bea"))
        r = pm("POST", BASE + "/assignee", {"aas_uid": "bea", "aas_type": "user"}, PM)  # still assigned
        assert r.body == bad_request("This ID: bea is already assigned to task: act")
        put_user("bea", "Bea")  # active again: back in its place, counted
        assert uids() == ["zz", "ops", "aa", "alice", "bea", "carol", "erin"]
        assert pm("GET", BASE + "/assignee/paged", query={"limit": "1"}).body["total"] == 7
        put_user("alice", "Alice", active=False)  # also leaves /all, though its group is assigned
        assert "alice" not in uids("/assignee/all") and "alice" not in uids()

    def test_already_assigned_is_checked_before_the_type(self) -> None:
        r = pm("POST", BASE + "/assignee", {"aas_uid": "carol", "aas_type": "group"}, PM)
        assert r.body == bad_request("This ID: carol is already assigned to task: act")

    def test_renames_keep_the_order_right(self) -> None:
        put_user("erin", "Aaron")  # first name now sorts first among users
        put_group("aa", "Alpha", [])  # title now sorts first among groups
        put_user("carol", "Carol", last="Renamed")  # last name only: no move
        expected = ["zz", "aa", "ops", "erin", "alice", "carol"]
        assert uids() == expected
        paged = [u for start in range(0, 6, 4) for u in uids("/assignee/paged", start=str(start), limit="4")]
        assert paged == expected
        assert uids("/assignee/paged", limit="2") == ["zz", "aa"]
        r = pm("GET", BASE + "/assignee/paged", query={"limit": "10"})
        assert r.body["total"] == 6 and r.body["data"][3]["aas_name"] == "Aaron"
        assert pm("DELETE", BASE + "/assignee/erin", roles=PM).status == 200  # found in its new place
        assert uids() == ["zz", "aa", "ops", "alice", "carol"]
