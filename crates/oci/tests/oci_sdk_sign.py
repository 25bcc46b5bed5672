"""Signs requests with the `oci` Python SDK's signer, for crates/oci/tests/python_sdk.rs.

Usage: oci_sdk_sign.py CASES.json  (prints a JSON list of results on stdout)

Each case: {"method", "url", "headers": {...}, "body_b64": str|null, "exclude_body": bool,
"tenancy", "user", "fingerprint", "key_file"}. `exclude_body` mirrors the SDK's own
`enforce_content_headers=False`, which its generated clients pass for exactly Object Storage
PutObject and UploadPart.
"""
import base64
import json
import sys

import oci
from oci._vendor import requests


def main():
    cases = json.load(open(sys.argv[1]))
    signers = {}
    out = []
    for c in cases:
        k = (c["tenancy"], c["user"], c["fingerprint"], c["key_file"])
        if k not in signers:
            signers[k] = oci.signer.Signer(c["tenancy"], c["user"], c["fingerprint"], c["key_file"])
        body = base64.b64decode(c["body_b64"]) if c["body_b64"] is not None else None
        req = requests.Request(c["method"], c["url"], headers=c["headers"], data=body).prepare()
        signers[k](req, enforce_content_headers=not c["exclude_body"])
        h = {name.lower(): value for name, value in req.headers.items()}
        out.append({"path_url": req.path_url, "headers": h})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
