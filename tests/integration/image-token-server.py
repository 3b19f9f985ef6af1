#!/usr/bin/env python3
# A token server for tests of bearer-token auth against docker-registry:
# GET /token?service=S&scope=repository:NAME:ACTIONS answers a JWT (RS256,
# signed with openssl, the certificate in the x5c header) to a client that
# sends the right basic credentials, and 401 to any other.
# Usage: image-token-server.py PORT KEY CERT USER:PASSWORD ISSUER
import base64
import http.server
import json
import subprocess
import sys
import time
import urllib.parse

port, key, cert, userpass, issuer = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der():
    pem = open(cert).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())


def make_token(service, scopes):
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) == 3:
            access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "x5c": [cert_der()]}
    claims = {"iss": issuer, "sub": userpass.split(":")[0], "aud": service, "exp": now + 600,
              "nbf": now - 10, "iat": now, "jti": str(now), "access": access}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(),
                         capture_output=True, check=True).stdout
    return signing_input + "." + b64(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        expected = "Basic " + base64.b64encode(userpass.encode()).decode()
        if url.path != "/token" or self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="tokens"')
            self.end_headers()
            return
        token = make_token(query.get("service", [""])[0], query.get("scope", []))
        body = json.dumps({"token": token, "access_token": token, "expires_in": 600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
