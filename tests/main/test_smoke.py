"""The app starts and its public pages answer."""


def test_home_page_is_vietnamese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="vi"' in response.text
    assert "Học kỹ năng số" in response.text


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_unknown_page_is_a_vietnamese_404(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.text
    assert "Traceback" not in response.text
