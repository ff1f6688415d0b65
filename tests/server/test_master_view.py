"""The master key is the operator: it lists, reads, downloads and deletes every owner's videos; a
virtual key still sees only its own (404 for another's, as for an unknown id)."""

from __future__ import annotations

import pytest
from tests.server.conftest import MASTER, Served, auth

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


async def test_the_master_key_sees_every_owners_videos(served: Served) -> None:
    alice, bob = await served.new_key(key_alias="alice"), await served.new_key(key_alias="bob")
    first = await served.create(alice, "alice's fox")
    second = await served.create(bob, "bob's owl")
    await served.wait_done(alice, first["id"])
    await served.wait_done(bob, second["id"])

    listed = await served.client.get("/v1/videos", headers=auth(MASTER))
    assert [v["id"] for v in listed.json()["data"]] == [second["id"], first["id"]]
    mine = await served.client.get("/v1/videos", headers=auth(alice))
    assert [v["id"] for v in mine.json()["data"]] == [first["id"]]

    read = await served.client.get(f"/v1/videos/{second['id']}", headers=auth(MASTER))
    assert (read.status_code, read.json()["prompt"]) == (200, "bob's owl")
    content = await served.client.get(f"/v1/videos/{second['id']}/content", headers=auth(MASTER))
    assert (content.status_code, content.headers["content-type"]) == (200, "video/mp4")
    assert (await served.client.get(f"/v1/videos/{second['id']}", headers=auth(alice))).status_code == 404

    deleted = await served.client.delete(f"/v1/videos/{first['id']}", headers=auth(MASTER))
    assert deleted.json() == {"id": first["id"], "object": "video.deleted", "deleted": True}
    assert (await served.client.get(f"/v1/videos/{first['id']}", headers=auth(alice))).status_code == 404
