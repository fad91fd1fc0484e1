import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Just enough X.509 to give every simulated kubelet a serving certificate signed by
 * a throwaway CA (ECDSA P-256), without openssl or a dependency: a DER encoder for
 * the handful of structures a TLS client checks.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const ctx = (n: number, body: Buffer, constructed = true) => tlv((constructed ? 0xa0 : 0x80) | n, body);
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let body = b.subarray(i);
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    let v = p >>> 7;
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // UTCTime for 1950..2049, GeneralizedTime beyond (RFC 5280 4.1.2.5).
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function name(commonName: string, organization?: string): Buffer {
  const rdns = [];
  if (organization) rdns.push(set(seq(oid('2.5.4.10'), utf8(organization))));
  rdns.push(set(seq(oid('2.5.4.3'), utf8(commonName))));
  return seq(...rdns);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  throw new Error(`only IPv4 SANs are supported, got ${ip}`);
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKeyDer: Buffer;
  keyPem: string;
}

export function generateKey(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKey,
    publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function keyId(spkiDer: Buffer): Buffer {
  return createHash('sha1').update(spkiDer).digest();
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

export interface CertificateRequest {
  commonName: string;
  organization?: string;
  ipAddresses?: string[];
  dnsNames?: string[];
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  subjectKey: KeyPair;
  /** Absent for a self-signed certificate. */
  issuer?: { commonName: string; organization?: string; key: KeyPair };
}

/** DER-encode and sign a v3 certificate; returns PEM. */
export function createCertificate(req: CertificateRequest): string {
  const issuer = req.issuer ?? { commonName: req.commonName, organization: req.organization, key: req.subjectKey };
  const extensions: Buffer[] = [];
  extensions.push(extension('2.5.29.19', true, req.isCa ? seq(bool(true)) : seq()));
  // keyUsage: digitalSignature (+ keyCertSign, cRLSign for a CA).
  extensions.push(extension('2.5.29.15', true, req.isCa ? tlv(0x03, Buffer.from([1, 0x86])) : tlv(0x03, Buffer.from([7, 0x80]))));
  if (!req.isCa) extensions.push(extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))));
  extensions.push(extension('2.5.29.14', false, octets(keyId(req.subjectKey.publicKeyDer))));
  if (req.issuer) extensions.push(extension('2.5.29.35', false, seq(ctx(0, keyId(issuer.key.publicKeyDer), false))));
  const sans = [
    ...(req.dnsNames ?? []).map((d) => ctx(2, Buffer.from(d, 'ascii'), false)),
    ...(req.ipAddresses ?? []).map((ip) => ctx(7, ipBytes(ip), false)),
  ];
  if (sans.length > 0) extensions.push(extension('2.5.29.17', false, seq(...sans)));

  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(
    ctx(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    name(issuer.commonName, issuer.organization),
    seq(time(req.notBefore), time(req.notAfter)),
    name(req.commonName, req.organization),
    req.subjectKey.publicKeyDer,
    ctx(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, issuer.key.privateKey);
  return pem(seq(tbs, ECDSA_SHA256, bitString(signature)));
}

export interface CertificateAuthority {
  certPem: string;
  key: KeyPair;
  commonName: string;
  /** One key for every serving certificate: generating thousands of keys buys nothing here. */
  servingKey: KeyPair;
  issue(commonName: string, ipAddresses: string[], dnsNames: string[]): string;
}

export function createCertificateAuthority(commonName = 'heapstream-sim-ca', validDays = 365): CertificateAuthority {
  const key = generateKey();
  const notBefore = new Date(Date.now() - 3600e3);
  const notAfter = new Date(Date.now() + validDays * 86400e3);
  const certPem = createCertificate({ commonName, organization: 'heapstream', notBefore, notAfter, isCa: true, subjectKey: key });
  const servingKey = generateKey();
  return {
    certPem,
    key,
    commonName,
    servingKey,
    issue(cn, ipAddresses, dnsNames) {
      return createCertificate({
        commonName: cn,
        ipAddresses,
        dnsNames,
        notBefore,
        notAfter,
        isCa: false,
        subjectKey: servingKey,
        issuer: { commonName, organization: 'heapstream', key },
      });
    },
  };
}
