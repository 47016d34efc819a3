// SRTP (RFC 3711) with AES_CM_128_HMAC_SHA1_80 in plain node:crypto: an implementation independent
// of libsrtp, to check what the worker encrypts and to feed it encrypted RTP. RTP only (no SRTCP),
// no MKI, key derivation rate 0.
import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const MASTER_KEY_LENGTH = 16;
const MASTER_SALT_LENGTH = 14;
const AUTH_TAG_LENGTH = 10;

/** A 16-byte AES counter block: the 14-byte salt shifted left 16 bits. */
function saltBlock(salt: Buffer): Buffer {
  const block = Buffer.alloc(16);
  salt.copy(block, 0);
  return block;
}

function aesCm(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** RFC 3711 section 4.3.1 with r = 0: AES-CM keystream under IV = (salt XOR label<<48) << 16. */
function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = saltBlock(masterSalt);
  iv[7] = iv[7]! ^ label;
  return aesCm(masterKey, iv, Buffer.alloc(length));
}

/** Where the payload starts: after the fixed header, CSRCs and any header extension. */
function payloadOffset(packet: Buffer): number {
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if ((packet[0]! & 0x10) !== 0) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  if (offset > packet.length) throw new Error('truncated RTP packet');
  return offset;
}

export class SrtpAesCm80 {
  readonly keyBase64: string;
  readonly #encryptionKey: Buffer;
  readonly #authKey: Buffer;
  readonly #salt: Buffer;
  /** Per SSRC: highest sequence number seen and rollover counter. */
  readonly #streams = new Map<number, { seq: number; roc: number }>();

  /** keyBase64: 30 bytes, master key then master salt (mediasoup's SrtpParameters.keyBase64). */
  constructor(
    keyBase64: string = randomBytes(MASTER_KEY_LENGTH + MASTER_SALT_LENGTH).toString('base64'),
  ) {
    const material = Buffer.from(keyBase64, 'base64');
    if (material.length !== MASTER_KEY_LENGTH + MASTER_SALT_LENGTH) {
      throw new Error(
        `AES_CM_128_HMAC_SHA1_80 wants 30 bytes of keying material, got ${material.length}`,
      );
    }
    this.keyBase64 = keyBase64;
    const masterKey = material.subarray(0, MASTER_KEY_LENGTH);
    const masterSalt = material.subarray(MASTER_KEY_LENGTH);
    this.#encryptionKey = deriveKey(masterKey, masterSalt, 0x00, 16);
    this.#authKey = deriveKey(masterKey, masterSalt, 0x01, 20);
    this.#salt = deriveKey(masterKey, masterSalt, 0x02, MASTER_SALT_LENGTH);
  }

  protect(rtp: Buffer): Buffer {
    const ssrc = rtp.readUInt32BE(8);
    const roc = this.#rollover(ssrc, rtp.readUInt16BE(2));
    const offset = payloadOffset(rtp);
    const encrypted = Buffer.concat([
      rtp.subarray(0, offset),
      aesCm(this.#encryptionKey, this.#iv(ssrc, roc, rtp.readUInt16BE(2)), rtp.subarray(offset)),
    ]);
    return Buffer.concat([encrypted, this.#tag(encrypted, roc)]);
  }

  /** Checks the tag and decrypts; throws on a bad tag. */
  unprotect(srtp: Buffer): Buffer {
    if (srtp.length < 12 + AUTH_TAG_LENGTH) throw new Error('SRTP packet too short');
    const authenticated = srtp.subarray(0, srtp.length - AUTH_TAG_LENGTH);
    const tag = srtp.subarray(srtp.length - AUTH_TAG_LENGTH);
    const ssrc = srtp.readUInt32BE(8);
    const seq = srtp.readUInt16BE(2);
    const roc = this.#rollover(ssrc, seq);
    if (!timingSafeEqual(tag, this.#tag(authenticated, roc))) {
      throw new Error(`SRTP authentication failed (ssrc ${ssrc}, seq ${seq})`);
    }
    const offset = payloadOffset(authenticated);
    return Buffer.concat([
      authenticated.subarray(0, offset),
      aesCm(this.#encryptionKey, this.#iv(ssrc, roc, seq), authenticated.subarray(offset)),
    ]);
  }

  /** IV = (k_s << 16) XOR (SSRC << 64) XOR (index << 16), index = ROC << 16 | SEQ. */
  #iv(ssrc: number, roc: number, seq: number): Buffer {
    const iv = saltBlock(this.#salt);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
    return iv;
  }

  #tag(authenticated: Buffer, roc: number): Buffer {
    const rocBytes = Buffer.alloc(4);
    rocBytes.writeUInt32BE(roc >>> 0);
    return createHmac('sha1', this.#authKey)
      .update(authenticated)
      .update(rocBytes)
      .digest()
      .subarray(0, AUTH_TAG_LENGTH);
  }

  /** The rollover counter for a packet of an in-order stream (enough for loopback tests). */
  #rollover(ssrc: number, seq: number): number {
    const stream = this.#streams.get(ssrc);
    if (!stream) {
      this.#streams.set(ssrc, { seq, roc: 0 });
      return 0;
    }
    if (seq < stream.seq && stream.seq - seq > 0x8000) stream.roc += 1;
    stream.seq = seq;
    return stream.roc;
  }
}
