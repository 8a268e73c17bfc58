from tests.conftest import login


def test_pages_render_for_an_officer(client, world):
    login(client, world["officer"])
    for path in [
        "/",
        f"/calls/{world['call'].id}",
        "/manage/",
        f"/manage/calls/{world['call'].id}",
        f"/manage/calls/{world['call'].id}/settings",
        f"/manage/calls/{world['call'].id}/texts/fr",
        f"/manage/calls/{world['call'].id}/criteria/new",
        f"/manage/funders/{world['funder'].id}/calls/new",
        "/account",
    ]:
        r = client.get(path)
        assert r.status_code == 200, (path, r.get_data(as_text=True)[:3000])
