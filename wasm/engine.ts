// The TLS engine's entry point: the sandbox ABI (wasm/abi.ts) over the TLS 1.3 and TLS 1.2 server in tls/.
// Every export takes and returns 32-bit integers; pointers name fixed buffers inside this
// instance. The host is trusted to call in order but every length it passes is checked anyway.
import { Abi, ErrorCode, Info } from "./abi";
import { randomFill } from "./sys";
import {
  S, Phase, configBuf, CONFIG_CAP, recvBuf, certBuf, CERT_CAP, keyopBuf, KEYOP_CAP, sniBuf, alpnBuf,
} from "./tls/state";
import { configure, setCertificate, keyOpDone } from "./tls/handshake";
import {
  recv, recvWindow, processRecords, sendPtr, sendAck, appOutPtr, appOutPending, appOutAck, appInPtr, appInWindow, appIn,
  close, status,
} from "./tls/conn";
import { sendPending } from "./tls/record";

const scratch = memory.data(32, 16);

/** ABI version: the host refuses a module whose version it does not know. */
export function tlsbox_abi_version(): i32 {
  return Abi.VERSION;
}

/** Draws 4 random bytes through WASI, proving the import path works. */
export function tlsbox_random_u32(): u32 {
  randomFill(scratch, 4);
  return load<u32>(scratch);
}

// ---- Set-up ----

export function tls_config_ptr(): usize {
  return configBuf;
}

export function tls_config_capacity(): i32 {
  return CONFIG_CAP;
}

export function tls_configure(len: i32): i32 {
  if (S.phase != Phase.UNCONFIGURED) return ErrorCode.CALL_OUT_OF_ORDER;
  if (len < 0 || len > CONFIG_CAP) return ErrorCode.BAD_CONFIG;
  return configure(configBuf, len);
}

// ---- Network → engine ----

export function tls_recv_ptr(): usize {
  return recvBuf + <usize>S.recvLen;
}

export function tls_recv_window(): i32 {
  if (S.phase == Phase.UNCONFIGURED) return 0;
  return recvWindow();
}

export function tls_recv(len: i32): i32 {
  if (S.phase == Phase.UNCONFIGURED) return status();
  recv(len);
  return status();
}

// ---- Engine → network ----

export function tls_send_ptr(): usize {
  return sendPtr();
}

export function tls_send_pending(): i32 {
  return sendPending();
}

export function tls_send_ack(n: i32): i32 {
  sendAck(n);
  return status();
}

// ---- Engine → backend ----

export function tls_app_out_ptr(): usize {
  return appOutPtr();
}

export function tls_app_out_pending(): i32 {
  return appOutPending();
}

export function tls_app_out_ack(n: i32): i32 {
  appOutAck(n);
  return status();
}

// ---- Backend → engine ----

export function tls_app_in_ptr(): usize {
  return appInPtr();
}

export function tls_app_in_window(): i32 {
  return appInWindow();
}

export function tls_app_in(len: i32): i32 {
  appIn(len);
  return status();
}

// ---- Certificate ----

export function tls_cert_ptr(): usize {
  return certBuf;
}

export function tls_cert_capacity(): i32 {
  return CERT_CAP;
}

/** Returns Status like the other stepping calls (ErrorCode via tls_info(Info.ERROR)). */
export function tls_set_certificate(len: i32, keyKind: i32): i32 {
  if (len < 0 || len > CERT_CAP) len = 0;
  setCertificate(len, keyKind);
  processRecords();
  return status();
}

// ---- Private-key operation ----

export function tls_keyop_ptr(): usize {
  return keyopBuf;
}

export function tls_keyop_capacity(): i32 {
  return KEYOP_CAP;
}

export function tls_keyop_done(len: i32): i32 {
  if (len < 0 || len > KEYOP_CAP) len = -1;
  keyOpDone(len);
  processRecords();
  return status();
}

// ---- Shutdown and status ----

export function tls_close(): i32 {
  close();
  return status();
}

export function tls_status(): i32 {
  return status();
}

export function tls_info(field: i32): i32 {
  switch (field) {
    case Info.VERSION: return S.version;
    case Info.CIPHER_SUITE: return S.suite;
    case Info.GROUP: return S.group;
    case Info.SIGNATURE_SCHEME: return S.sigScheme;
    case Info.SNI_LENGTH: return S.sniLen;
    case Info.ALPN_LENGTH: return S.alpnLen;
    case Info.ALERT_SENT: return S.alertSent;
    case Info.ALERT_RECEIVED: return S.alertReceived;
    case Info.ERROR: return S.error;
    case Info.HELLO_RETRY: return S.helloRetry ? 1 : 0;
    case Info.CLIENT_KEY_KINDS: return S.clientKeyKinds;
    case Info.MEMORY_PAGES: return <i32>memory.size();
    case Info.EXTENDED_MASTER_SECRET: return S.ems ? 1 : 0;
    case Info.RENEGOTIATIONS_REFUSED: return S.renegRefused;
  }
  return -1;
}

export function tls_sni_ptr(): usize {
  return sniBuf;
}

export function tls_alpn_ptr(): usize {
  return alpnBuf;
}
