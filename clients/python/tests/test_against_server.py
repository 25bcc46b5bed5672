"""The generated Python client (mediaserver_client) against a running server, whose URL
scripts/test-clients.sh passes in MEDIASERVER_URL: register, log in, upload a small video made
with ffmpeg, wait until it is ready, find it in the list, and fetch the HLS playlist its item
names. Run: PYTHONPATH=clients/python python3 -m unittest discover -s clients/python/tests"""

import os
import subprocess
import tempfile
import time
import unittest
import uuid

from mediaserver_client import AuthenticatedClient, Client
from mediaserver_client.api.auth import login, register
from mediaserver_client.api.media import get_media, list_media, upload_media
from mediaserver_client.api.playback import media_hls
from mediaserver_client.models import Credentials, LibraryPage, MediaStatus, MediaView, RegisterRequest, TokenPair, UserView
from mediaserver_client.types import File

URL = os.environ.get("MEDIASERVER_URL", "")


def make_clip(path: str) -> None:
    """A 2 s 320x240 H.264/AAC MP4 from ffmpeg's test sources."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", path],
        check=True,
    )


@unittest.skipUnless(URL, "MEDIASERVER_URL is not set (scripts/test-clients.sh sets it)")
class AgainstServer(unittest.TestCase):
    def test_register_upload_wait_list_and_play(self) -> None:
        with Client(base_url=URL, raise_on_unexpected_status=True) as anon:
            tokens = self.sign_up(anon)
        with AuthenticatedClient(base_url=URL, token=tokens.access_token, raise_on_unexpected_status=True) as client:
            self.upload_wait_list_and_play(client)

    def sign_up(self, anon: Client) -> TokenPair:
        email = f"py-{uuid.uuid4().hex[:8]}@example.com"
        password = "correct horse battery staple"

        user = register.sync(client=anon, body=RegisterRequest(email=email, password=password))
        self.assertIsInstance(user, UserView, user)
        self.assertEqual(user.email, email)
        tokens = login.sync(client=anon, body=Credentials(email=email, password=password))
        self.assertIsInstance(tokens, TokenPair, tokens)
        return tokens

    def upload_wait_list_and_play(self, client: AuthenticatedClient) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            clip = os.path.join(tmp, "clip.mp4")
            make_clip(clip)
            with open(clip, "rb") as f:
                created = upload_media.sync_detailed(
                    client=client,
                    body=File(payload=f, file_name="clip.mp4", mime_type="video/mp4"),
                    filename="clip.mp4",
                    title="From Python",
                )
        self.assertEqual(created.status_code, 201, created.content)
        item = created.parsed
        self.assertIsInstance(item, MediaView)
        self.assertEqual(item.title, "From Python")

        deadline = time.monotonic() + 120
        while item.status not in (MediaStatus.READY, MediaStatus.FAILED):
            self.assertLess(time.monotonic(), deadline, f"not ready: {item.status}")
            time.sleep(0.3)
            item = get_media.sync(client=client, id=item.id)
            self.assertIsInstance(item, MediaView, item)
        self.assertEqual(item.status, MediaStatus.READY, item.error)
        self.assertEqual((item.width, item.height), (320, 240))

        page = list_media.sync(client=client, limit=10)
        self.assertIsInstance(page, LibraryPage, page)
        self.assertIn(item.id, [i.id for i in page.items])

        # The HLS URL the item names plays: a master playlist, fetched with the client's session.
        hls = item.playback.hls
        self.assertEqual(hls, f"/v1/media/{item.id}/hls/master.m3u8")
        r = client.get_httpx_client().get(hls)
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.text.startswith("#EXTM3U"), r.text[:200])
        # …and the typed route for it answers the same.
        same = media_hls.sync_detailed(client=client, id=item.id, file="master.m3u8")
        self.assertEqual((same.status_code, same.content), (200, r.content))


if __name__ == "__main__":
    unittest.main()
