"""The field app's API on a real seeded database: logins, my orders, the moves with their history, photos,
demo logins, and the field app inside the console's app. Bad input: test_field_bad_input.py."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from PIL import ExifTags, Image
from sqlalchemy import select

from backend import models as m
from backend.workorders.demo import ensure_demo_field_logins
from console.app import create_app
from console.config import ConsoleConfig
from tests.field.conftest import ADDRESS, PASSWORD, Phone, World, assert_reencoded, build_world, history, png, run


def test_login_keeps_only_a_hash_of_the_cookie_and_logout_ends_the_session(world: World) -> None:
    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            status, data = await phone.login("g101", "wrong password")
            assert (status, data["error"]) == (401, "工号或密码不对。")
            status, data = await phone.login("g101")
            assert status == 200 and data["member"]["username"] == "g101" and data["member"]["leader"] is True
            token = next(c.value for c in phone.http.cookie_jar if c.key == "p95598_field")
            with world.sessions() as s:
                rows = list(s.scalars(select(m.FieldSession)))
            assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
            assert token not in {r.token_hash for r in rows} and rows[0].csrf == data["csrf"]
            assert (await phone.get("/field/api/session"))[1]["member"]["name"]  # a reload finds the login
            assert (await phone.post("/field/api/logout"))[0] == 200
            with world.sessions() as s:
                assert s.scalar(select(m.FieldSession)) is None
            phone.http.cookie_jar.update_cookies({"p95598_field": token})  # an old cookie is worth nothing
            assert (await phone.get("/field/api/orders"))[0] == 401

    run(world, scenario)


def test_login_needs_its_csrf_token_the_same_origin_and_a_member_with_a_password(world: World) -> None:
    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.get("/field/api/session")
            status, data = await phone.post(
                "/field/api/login", csrf=False, json={"username": "g101", "password": PASSWORD}
            )
            assert status == 403 and "过期" in data["error"]
            phone.csrf = (await phone.get("/field/api/session"))[1]["csrf"]
            status, _ = await phone.post(
                "/field/api/login",
                json={"username": "g101", "password": PASSWORD},
                headers={"Origin": "https://evil.example"},
            )
            assert status == 403
            status, data = await phone.login("g301")  # team 3 has no password set: no login at all
            assert status == 401
            status, data = await phone.post("/field/api/login", json={"username": ["g101"], "password": PASSWORD})
            assert status == 400 and data["error"]
        with world.sessions() as s:
            assert s.scalar(select(m.FieldSession)) is None

    run(world, scenario)


def test_failed_logins_are_rate_limited(world: World) -> None:
    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            for _ in range(5):
                assert (await phone.login("g102", "not it"))[0] == 401
            status, data = await phone.login("g102")  # even the right password waits now
            assert status == 429 and "五分钟" in data["error"]
            assert (await phone.login("g103"))[0] == 200  # another member from the same place is not locked out

    run(world, scenario)


def test_my_orders_and_one_order_with_its_moves_timeline_and_map_link(world: World) -> None:
    number, assignee = world.new_order()

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone, Phone(server) as other:
            assert (await phone.get("/field/api/orders"))[0] == 401
            await phone.login(f"g{assignee}")
            status, data = await phone.get("/field/api/orders")
            assert status == 200
            row = next(o for o in data["orders"] if o["number"] == number)
            assert row["service"] == "故障报修" and row["address"] == ADDRESS and row["status_label"] == "已派单"
            assert row["mine"] and row["due"] and row["overdue"] is False
            status, data = await phone.get(f"/field/api/orders/{number.lower()}")
            assert status == 200
            order = data["order"]
            assert [mv["to"] for mv in order["moves"]] == ["accepted", "cannot_complete"]
            assert order["map"].startswith("https://uri.amap.com/search?keyword=%E5%9F%8E%E4%B8%9C")
            assert {"label": "故障描述", "value": "家里整栋楼停电了"} in order["facts"]
            assert order["timeline"][0]["status"] == "已派单" and order["timeline"][-1]["who"] == "智能客服"
            # a member of another team neither sees it in a list nor opens it
            await other.login("g203")
            assert number not in {o["number"] for o in (await other.get("/field/api/orders"))[1]["orders"]}
            status, data = await other.get(f"/field/api/orders/{number}")
            assert status == 404 and data["error"] == "没有找到这张工单，或它不归您处理。"

    run(world, scenario)


def test_accept_on_the_way_on_site_resolved_with_a_photo(world: World) -> None:
    number, assignee = world.new_order()
    photo = png()
    served: list[bytes] = []

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone, Phone(server) as leader, Phone(server) as stranger:
            await phone.login(f"g{assignee}")
            for to, label in (("accepted", "已接单"), ("en_route", "已出发"), ("on_site", "已到现场")):
                status, data = await phone.move(number, to)
                assert status == 200, data
                assert data["order"]["status_label"] == label and data["message"]
            status, data = await phone.move_with_photo(number, "resolved", "更换了烧坏的进户线，已恢复供电。", photo)
            assert status == 200, data
            assert data["order"]["status"] == "resolved" and data["order"]["moves"] == []
            url = data["order"]["timeline"][0]["photos"][0]
            async with phone.http.get(phone.base + url) as r:
                assert r.status == 200 and r.content_type == "image/jpeg"
                served.append(await r.read())
            await leader.login("g101" if assignee != 101 else "g102")  # a colleague of the team may look
            async with leader.http.get(leader.base + url) as r:
                assert r.status == 200
            await stranger.login("g201")  # another team's member may not
            async with stranger.http.get(stranger.base + url) as r:
                assert r.status == 404
            async with aiohttp.ClientSession() as anonymous, anonymous.get(phone.base + url) as r:
                assert r.status == 401

    run(world, scenario)
    events = [e for e in history(world, number) if e.kind == "status"][1:]  # after the intake entry
    assert [e.status for e in events] == ["accepted", "en_route", "on_site", "resolved"]
    assert {(e.actor, e.source) for e in events} == {(f"field:{assignee}", "field_app")}
    assert events[-1].note == "更换了烧坏的进户线，已恢复供电。"
    (stored,) = events[-1].detail["photos"]
    assert stored.startswith(f"orders/{number}/") and stored.endswith(".jpg")  # encoded anew, whatever was sent
    assert [(world.uploads / stored).read_bytes()] == served
    assert_reencoded(served[0], photo)
    with world.sessions() as s:
        notices = s.scalars(select(m.OrderNotice).where(m.OrderNotice.audience == "customer")).all()
        told = {n.payload["status"]: n for n in notices if n.channel == "chat" and n.recipient == "web-field-test"}
    assert {"en_route", "resolved"} <= told.keys()  # the changes the customer is told of, in their chat
    assert "更换了烧坏的进户线" in told["resolved"].text


def test_a_site_photo_is_kept_without_its_exif_and_gps_position(world: World) -> None:
    number, assignee = world.new_order()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 9.0)})  # where the photo was taken
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(out, format="JPEG", exif=exif.tobytes())
    photo = out.getvalue()
    with Image.open(io.BytesIO(photo)) as sent:
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)[2] == (31.0, 14.0, 5.0)  # it does carry a position

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.login(f"g{assignee}")
            for to in ("accepted", "on_site"):
                assert (await phone.move(number, to))[0] == 200
            status, data = await phone.move_with_photo(number, "resolved", "已修复", photo, "site.jpg", "image/jpeg")
            assert status == 200, data

    run(world, scenario)
    (stored,) = history(world, number)[-1].detail["photos"]
    assert stored.endswith(".jpg")
    assert_reencoded((world.uploads / stored).read_bytes(), photo)


def test_cannot_complete_needs_a_reason_and_records_it(world: World) -> None:
    number, assignee = world.new_order()

    async def scenario(server: TestServer) -> None:
        async with Phone(server) as phone:
            await phone.login(f"g{assignee}")
            before = world.snapshot(number)
            status, data = await phone.move(number, "cannot_complete", "   ")
            assert (status, data["error"]) == (400, "请填写无法处理的原因。")
            assert world.snapshot(number) == before
            status, data = await phone.move(number, "cannot_complete", "需要停电作业，已报调度")
            assert status == 200 and data["order"]["status"] == "cannot_complete"

    run(world, scenario)
    assert history(world, number)[-1].note == "需要停电作业，已报调度"


def test_demo_field_logins_go_to_teams_1_and_5_once_and_keep_a_members_own_password(tmp_path: Path) -> None:
    world = build_world(tmp_path)  # teams 1 and 2 have test passwords already
    with world.sessions.begin() as s:
        for member in s.scalars(select(m.TeamMember).where(m.TeamMember.team_id == 1)):
            member.password_hash = "" if member.id != 101 else member.password_hash
    made = ensure_demo_field_logins(world.sessions, "demo-pass-95598")
    assert made == ["g102", "g103", "g104", "g105", "g106", "g501", "g502", "g503", "g504", "g505", "g506"]
    assert ensure_demo_field_logins(world.sessions, "demo-pass-95598") == []
    with world.sessions() as s:
        with_password = set(s.scalars(select(m.TeamMember.team_id).where(m.TeamMember.password_hash != "")))
    assert with_password == {1, 2, 5}
    assert world.desk.logins.authenticate("g505", "demo-pass-95598") is not None
    assert world.desk.logins.authenticate("g101", PASSWORD) is not None  # its own password stays
    assert world.desk.logins.authenticate("g101", "demo-pass-95598") is None


def test_the_console_app_serves_the_field_app_which_does_its_own_auth(tmp_path: Path, monkeypatch) -> None:
    world = build_world(tmp_path)
    number, assignee = world.new_order()
    photo = png(600, 400, noise=True)
    assert len(photo) > 600_000
    url = str(world.sessions.kw["bind"].url)
    monkeypatch.setenv("P95598_UPLOADS", str(tmp_path / "console-uploads"))
    app = create_app(ConsoleConfig(db_url=url, rasa_url="http://127.0.0.1:9"))

    async def scenario() -> None:
        async with TestClient(TestServer(app)) as client:
            origin = str(client.make_url("")).rstrip("/")
            page = await client.get("/field")
            assert page.status == 200 and "网格工单" in await page.text()
            assert "default-src 'self'" in page.headers["Content-Security-Policy"]
            assert (await client.get("/field/static/field.js")).status == 200
            r = await client.get("/field/api/orders")  # the console's login is not asked for, the field's is
            assert r.status == 401 and (await r.json())["error"] == "请先登录。"
            session = await (await client.get("/field/api/session")).json()
            r = await client.post(
                "/field/api/login",
                json={"username": f"g{assignee}", "password": PASSWORD},
                headers={"X-CSRF-Token": session["csrf"], "Origin": origin},
            )
            assert r.status == 200 and (await r.json())["member"]["team"] == "城东区一网格供电服务班"
            headers = {"X-CSRF-Token": (await r.json())["csrf"], "Origin": origin}
            assert (await client.get("/field/api/orders")).status == 200
            for to in ("accepted", "on_site"):
                r = await client.post(f"/field/api/orders/{number}/move", json={"to": to}, headers=headers)
                assert r.status == 200
            form = aiohttp.FormData()
            form.add_field("to", "resolved")
            form.add_field("note", "已修复")
            form.add_field("photo", photo, filename="big.png", content_type="image/png")
            # far above the console's own body limit (256 KB): the form is read part by part, the photo to 5 MB
            r = await client.post(f"/field/api/orders/{number}/move", data=form, headers=headers)
            assert r.status == 200, await r.text()
            (kept,) = (tmp_path / "console-uploads" / "orders" / number).iterdir()
            assert_reencoded(kept.read_bytes(), photo)
            assert (await client.get("/console/api/queue")).status == 401  # and the console's own auth still holds

    asyncio.run(scenario())
