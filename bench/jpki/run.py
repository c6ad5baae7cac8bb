"""JPKI verification benchmark: time to verify one application signature. Prints figures; asserts
nothing.

    .venv/bin/python -m bench.jpki.run --rounds 50

Per revocation mode (none, CRL, OCSP against a local responder over HTTP) it prints median, p95
and signatures per second of :func:`server.domain.jpki.verify.verify`, and the ratio against a
naive baseline that only checks the RSA signature value (no CMS parsing, no path, no revocation)
— the price of doing the whole RFC 5280/6960 job. Last, the CPU time (process time, not wall
clock) the ``digital_auth_app`` adapter adds per result: JWE decryption (RSA-OAEP-256 + A256GCM,
2048-bit key) and wrapping the bare signature into a CMS, alone and followed by verification (CRL).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from server.domain.jpki import verify as V
from server.domain.jpki.certinfo import FourInfo
from server.plugins.jpki import testpki as T

INFO = FourInfo(
    name="下妻 太郎", birth_date="1980-04-01", gender="1", address="茨城県下妻市本城町二丁目22番地"
)
CONTENT = ('{"format":"madoguchi-eform-sign/1","values":{"note":"' + "あ" * 2000 + '"}}').encode()


def _stats(name: str, times: list[float], baseline: float) -> None:
    times.sort()
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"{name:<10} median {median * 1000:7.2f} ms  p95 {p95 * 1000:7.2f} ms  "
        f"{1 / median:7.1f}/s  ×{median / baseline:6.1f} vs signature-only"
    )


async def main(rounds: int) -> None:
    root = T.make_ca("Bench Root")
    ca = T.make_ca("Bench Sign CA", root)
    signer = T.make_signer(ca, INFO)
    cms = T.sign_detached(CONTENT, signer, [ca.cert])
    raw = signer.key.sign(CONTENT, padding.PKCS1v15(), hashes.SHA256())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            answer = T.ocsp_response(body, ca, set())
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    base: list[float] = []
    for _ in range(rounds):
        t = time.perf_counter()
        signer.cert.public_key().verify(raw, CONTENT, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg, union-attr]
        base.append(time.perf_counter() - t)
    baseline = statistics.median(base)
    print(f"signature-only baseline median {baseline * 1000:.3f} ms ({rounds} rounds, {len(CONTENT)} bytes)")
    modes = {
        "none": V.Trust([root.der], "none"),
        "crl": V.Trust([root.der], "crl", [T.make_crl(ca, []), T.make_crl(root, [])]),
        "ocsp": V.Trust([root.der], "ocsp", ocsp_url=url),
    }
    for name, trust in modes.items():
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            await V.verify(cms, CONTENT, trust)
            times.append(time.perf_counter() - t)
        _stats(name, times, baseline)
    server.shutdown()
    await _app_result(rounds, root, ca, signer, modes["crl"], baseline)


async def _app_result(
    rounds: int, root: T.Issued, ca: T.Issued, signer: T.Issued, trust: V.Trust, baseline: float
) -> None:
    """CPU time of opening a デジタル認証アプリ result (decrypt + wrap), and of that plus verify."""
    import base64
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import utils
    from joserfc import jwe
    from joserfc.jwk import RSAKey

    from server.config import Settings
    from server.plugins.jpki.digital_auth_app import DigitalAuthApp

    key = RSAKey.generate_key(2048)
    app = DigitalAuthApp(Settings())
    app.__dict__["_jwe_key"] = key  # the cached key, as if read from JPKI_APP_JWE_KEY_FILE
    digest = hashes.Hash(hashes.SHA256())
    digest.update(CONTENT)
    signature = signer.key.sign(digest.finalize(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    der = [c.public_bytes(serialization.Encoding.DER) for c in (signer.cert, ca.cert)]
    payload = json.dumps(
        {
            "signature": base64.b64encode(signature).decode(),
            "certificate": base64.b64encode(der[0]).decode(),
            "chain": [base64.b64encode(der[1]).decode()],
        }
    )
    public = RSAKey.import_key(key.as_dict(private=False))
    value = jwe.encrypt_compact(
        {"alg": "RSA-OAEP-256", "enc": "A256GCM"}, payload, public, algorithms=["RSA-OAEP-256", "A256GCM"]
    )
    opened, whole = [], []
    for _ in range(rounds):
        t = time.process_time()
        cms = app._open({"result": value})
        opened.append(time.process_time() - t)
        await V.verify(cms, CONTENT, trust)
        whole.append(time.process_time() - t)
    _stats("app-open", opened, baseline)
    _stats("app+crl", whole, baseline)
    print("(app-open / app+crl: CPU time per result; the other lines are wall-clock)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    asyncio.run(main(parser.parse_args().rounds))
