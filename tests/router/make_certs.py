#!/usr/bin/env python3
"""Make a throw-away PKI for the TLS tests, offline, with `cryptography`.

Usage (with the venv interpreter; `cryptography` comes with crossbar):

    .venv/bin/python tests/router/make_certs.py DIR

writes into DIR (created if needed), all PEM:

    ca.pem                   the test CA's certificate (what a client's ca_file trusts)
    server.pem, server.key   the router's certificate, for 127.0.0.1, ::1 and localhost
    client.pem, client.key   a client certificate for mutual TLS, signed by the same CA
    other-ca.pem             an unrelated CA, for "wrong CA" tests

Keys are ECDSA P-256 in PKCS#8; certificates are valid from a day ago for 30 days.
Nothing is ever reused: every call makes new keys.
"""

import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "izaber-wamp tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def validity(builder):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(
        now + datetime.timedelta(days=30)
    )


def make_ca(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return key, validity(builder).sign(key, hashes.SHA256())


def make_leaf(ca_key, ca_cert, common_name, usage, sans):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, validity(builder).sign(ca_key, hashes.SHA256())


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    ca_key, ca_cert = make_ca("izaber-wamp test CA")
    server_key, server_cert = make_leaf(
        ca_key,
        ca_cert,
        "localhost",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ],
    )
    client_key, client_cert = make_leaf(
        ca_key, ca_cert, "izaber-wamp test client", ExtendedKeyUsageOID.CLIENT_AUTH, []
    )
    _, other_ca_cert = make_ca("izaber-wamp unrelated test CA")

    write(os.path.join(out, "ca.pem"), cert_pem(ca_cert))
    write(os.path.join(out, "server.pem"), cert_pem(server_cert))
    write(os.path.join(out, "server.key"), key_pem(server_key))
    write(os.path.join(out, "client.pem"), cert_pem(client_cert))
    write(os.path.join(out, "client.key"), key_pem(client_key))
    write(os.path.join(out, "other-ca.pem"), cert_pem(other_ca_cert))
    return 0


if __name__ == "__main__":
    sys.exit(main())
