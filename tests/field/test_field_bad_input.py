"""Bad input to the field app: unknown or forbidden moves, a withdrawn order, two phones at once, someone
else's order, malformed JSON, wrong types, broken forms, non-images and oversize photos, a missing CSRF token.
Each gets a clear refusal, and nothing stored changes (the order, its history, its notices, the photo folder)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from backend.workorders import Actor, Conflict, NotYours, OrderNotFound, WorkOrders
from tests.field.conftest import Phone, World, build_world, history, png, run


@pytest.mark.parametrize(
    ("raised", "status", "says"),
    [(Conflict("x"), 409, "刚被其他人更新"), (NotYours("x"), 403, "改派"), (OrderNotFound("x"), 404, "没有找到")],
    ids=["changed at the same moment", "re-dispatched meanwhile", "gone meanwhile"],
)
def test_a_change_lost_to_a_race_is_refused_and_its_photo_not_kept(
    world: World, monkeypatch, raised: Exception, status: int, says: str
) -> None:
    """What the desk raises when another change wins between the look-up and the write (rare: forced here)."""
    number, assignee = world.new_order()

    def lost(*args: object, **kw: object) -> None:
        raise raised

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.login(f"g{assignee}")
            for to in ("accepted", "on_site"):
                assert (await phone.move(number, to))[0] == 200
            before = world.snapshot(number)
            monkeypatch.setattr(world.desk.orders, "transition", lost)
            got, data = await phone.move_with_photo(number, "resolved", "已修好", png())
            assert got == status and says in data["error"], data
            assert world.snapshot(number) == before and not list(world.uploads.rglob("*.*"))

    run(world, scenario)


def test_a_withdrawn_order_takes_no_field_update(world: World) -> None:
    number, assignee = world.new_order()
    WorkOrders(world.sessions).transition(number, "withdrawn", Actor("customer", "chat", "客户"), note="不用修了")

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.login(f"g{assignee}")
            before = world.snapshot(number)
            for to in ("accepted", "on_site"):
                status, data = await phone.move(number, to)
                assert (status, data["error"]) == (409, "客户已撤销这张工单，无需再处理。")
            status, data = await phone.move_with_photo(number, "resolved", "已修好", png())
            assert status == 409 and "撤销" in data["error"]
            assert world.snapshot(number) == before  # and the photo it brought was not kept

    run(world, scenario)


def test_another_members_order_is_neither_shown_nor_changed(world: World) -> None:
    number, assignee = world.new_order()
    colleague = next(i for i in (102, 103, 104, 105, 106) if i != assignee)  # same team, not its leader

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone, Phone(server) as outsider:
            await phone.login(f"g{colleague}")
            await outsider.login("g201")  # another team's leader
            before = world.snapshot(number)
            for who in (phone, outsider):
                assert (await who.get(f"/field/api/orders/{number}"))[0] == 404
                status, data = await who.move(number, "accepted")
                assert status == 404 and data["error"]
            assert world.snapshot(number) == before

    run(world, scenario)


BAD_JSON = [
    ("unknown move", {"json": {"to": "flying"}}, 400, "不支持"),
    ("a move the field may not make", {"json": {"to": "closed"}}, 400, "不支持"),
    ("malformed JSON", {"data": b"{to: accepted", "headers": {"Content-Type": "application/json"}}, 400, "格式"),
    ("not UTF-8", {"data": b'{"to": "\xff"}', "headers": {"Content-Type": "application/json"}}, 400, "格式"),
    ("a list", {"json": ["accepted"]}, 400, "格式"),
    ("the move as a number", {"json": {"to": 3}}, 400, "文字"),
    ("the note as a list", {"json": {"to": "accepted", "note": ["x"]}}, 400, "文字"),
    ("a note too long", {"json": {"to": "accepted", "note": "长" * 501}}, 400, "500"),
    ("resolved without a note", {"json": {"to": "resolved"}}, 400, "处理情况"),
    ("no body", {}, 400, "格式"),
]


@pytest.mark.parametrize(("case", "request_kw", "status", "says"), BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_bad_json_is_refused_and_changes_nothing(
    world: World, case: str, request_kw: dict, status: int, says: str
) -> None:
    number, assignee = world.new_order()

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.login(f"g{assignee}")
            before = world.snapshot(number)
            got, data = await phone.post(f"/field/api/orders/{number}/move", **request_kw)
            assert got == status and says in data["error"], data
            assert world.snapshot(number) == before

    run(world, scenario)


MB5 = 5 * 1024 * 1024
BAD_PHOTOS = [
    ("text named .png", b"this is not an image at all", "site.png", "image/png", 400, "格式"),
    ("PNG header, broken body", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 40, "site.png", "image/png", 400, "损坏"),
    ("a GIF", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "site.gif", "image/gif", 400, "格式"),
    ("an HTML page", b"<html><script>alert(1)</script></html>", "x.jpg", "image/jpeg", 400, "格式"),
    ("empty", b"", "site.png", "image/png", 400, "空"),
    ("just over 5 MB", png() + b"\x00" * (MB5 - len(png()) + 1), "big.png", "image/png", 413, "5MB"),
    ("far over 5 MB", b"\x89PNG\r\n\x1a\n" + b"\x00" * (MB5 + 200_000), "huge.png", "image/png", 413, "5MB"),
]


@pytest.mark.parametrize(("case", "data", "name", "kind", "status", "says"), BAD_PHOTOS, ids=[c[0] for c in BAD_PHOTOS])
def test_a_bad_photo_is_refused_and_nothing_is_stored(
    world: World, case: str, data: bytes, name: str, kind: str, status: int, says: str
) -> None:
    if case.startswith("PNG header"):
        pytest.importorskip("PIL")  # only Pillow looks past the first bytes
    number, assignee = world.new_order()

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.login(f"g{assignee}")
            for to in ("accepted", "on_site"):
                assert (await phone.move(number, to))[0] == 200
            before = world.snapshot(number)
            got, answer = await phone.move_with_photo(number, "resolved", "已修好", data, name, kind)
            assert got == status and says in answer["error"], answer
            assert world.snapshot(number) == before and not list(world.uploads.rglob("*.*"))

    run(world, scenario)


BAD_FORMS = [
    ("a photo with another move", [("to", "on_site"), ("note", ""), ("photo", "png")], "处理完成"),
    ("two photos", [("to", "resolved"), ("note", "好了"), ("photo", "png"), ("photo", "png")], "一张"),
    ("an unknown field", [("to", "resolved"), ("note", "好了"), ("evil", "x")], "表单"),
    ("the move twice", [("to", "resolved"), ("to", "accepted"), ("note", "好了")], "表单"),
]


@pytest.mark.parametrize(("case", "parts", "says"), BAD_FORMS, ids=[c[0] for c in BAD_FORMS])
def test_a_bad_form_is_refused_and_nothing_is_stored(world: World, case: str, parts: list, says: str) -> None:
    number, assignee = world.new_order()

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.login(f"g{assignee}")
            for to in ("accepted", "en_route"):
                assert (await phone.move(number, to))[0] == 200
            before = world.snapshot(number)
            form = aiohttp.FormData(default_to_multipart=True)
            for key, value in parts:
                if value == "png":
                    form.add_field(key, png(), filename="a.png", content_type="image/png")
                else:
                    form.add_field(key, value)
            status, data = await phone.post(f"/field/api/orders/{number}/move", data=form)
            assert status == 400 and says in data["error"], data
            broken = b"--xyz\r\nContent-Disposition: form-data; name=to\r\n\r\nresolved"  # never closed
            status, data = await phone.post(
                f"/field/api/orders/{number}/move",
                data=broken,
                headers={"Content-Type": "multipart/form-data; boundary=xyz"},
            )
            assert status == 400 and data["error"]
            assert world.snapshot(number) == before and not list(world.uploads.rglob("*.*"))

    run(world, scenario)


def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(world: World) -> None:
    number, assignee = world.new_order()

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.login(f"g{assignee}")
            before = world.snapshot(number)
            status, data = await phone.post(f"/field/api/orders/{number}/move", csrf=False, json={"to": "accepted"})
            assert status == 403 and "过期" in data["error"]
            status, _ = await phone.post(
                f"/field/api/orders/{number}/move", json={"to": "accepted"}, headers={"Origin": "https://evil.example"}
            )
            assert status == 403
            assert world.snapshot(number) == before

    run(world, scenario)


@pytest.mark.parametrize("pair", ["same member on two phones", "assignee and team leader"])
def test_two_phones_accept_at_once_exactly_one_wins(tmp_path: Path, sessions, pair: str) -> None:
    world = build_world(tmp_path, sessions=sessions)
    number, assignee = world.new_order(address="城东区解放路6号")
    if assignee == 101:  # the leader got it: let a repair member hold it, so the leader is the second phone
        WorkOrders(world.sessions).redispatch(number, 105, Actor("agent:1", "console", "调度"))
        assignee = 105
    second = f"g{assignee}" if pair.startswith("same") else "g101"

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as one, Phone(server) as two:
            await one.login(f"g{assignee}")
            await two.login(second)
            results = await asyncio.gather(one.move(number, "accepted"), two.move(number, "accepted"))
            assert sorted(status for status, _ in results) == [200, 409], results
            refused = next(data for status, data in results if status == 409)["error"]
            assert "已经接单" in refused or "刚被其他人更新" in refused

    run(world, scenario)
    accepted = [e for e in history(world, number) if e.status == "accepted" and e.kind == "status"]
    assert len(accepted) == 1
