/*
 * srtp3_compat.c - implements the libsrtp 3.0 API subset declared in
 * include/srtp.h (as used by mediasoup-worker) on top of libsrtp 2.x.
 *
 * It must NOT include the compat srtp.h: it includes the real libsrtp2
 * header and defines the ms_srtp3_* symbols with ABI-identical signatures
 * (3.0 enums are passed as int, the 3.0 policy handle is our own struct).
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

/* libsrtp 3.0 numbering of srtp_profile_t (see compat srtp.h). */
enum {
    p3_reserved = 0,
    p3_null_null = 1,
    p3_aes128_cm_sha1_80 = 2,
    p3_aes128_cm_sha1_32 = 3,
    p3_aes192_cm_sha1_80 = 4,
    p3_aes192_cm_sha1_32 = 5,
    p3_aes256_cm_sha1_80 = 6,
    p3_aes256_cm_sha1_32 = 7,
    p3_null_sha1_80 = 8,
    p3_null_sha1_32 = 9,
    p3_aead_aes_128_gcm = 10,
    p3_aead_aes_256_gcm = 11
};

/* libsrtp 3.0 error code that libsrtp 2.x lacks. */
#define MS_SRTP3_ERR_BUFFER_SMALL ((srtp_err_status_t)28)

/* 3.0 event data (same layout as 2.x, redeclared to keep the types apart). */
typedef struct {
    srtp_t session;
    uint32_t ssrc;
    int event;
} ms_srtp3_event_data_t;
typedef void(ms_srtp3_event_handler_func_t)(ms_srtp3_event_data_t *data);

/* The opaque 3.0 policy handle: a libsrtp2 policy plus owned key storage. */
typedef struct ms_srtp3_policy {
    srtp_policy_t p2;
    int profile3;
    bool profile_set;
    bool has_key;
    size_t key_len;
    size_t salt_len;
    unsigned char key[SRTP_MAX_KEY_LEN];
} ms_srtp3_policy_t;

static ms_srtp3_event_handler_func_t *g_user_event_handler = NULL;

static bool map_profile(int profile3, srtp_profile_t *profile2)
{
    switch (profile3) {
    case p3_aes128_cm_sha1_80: *profile2 = srtp_profile_aes128_cm_sha1_80; return true;
    case p3_aes128_cm_sha1_32: *profile2 = srtp_profile_aes128_cm_sha1_32; return true;
    case p3_null_sha1_80:      *profile2 = srtp_profile_null_sha1_80;      return true;
    case p3_null_sha1_32:      *profile2 = srtp_profile_null_sha1_32;      return true;
    case p3_aead_aes_128_gcm:  *profile2 = srtp_profile_aead_aes_128_gcm;  return true;
    case p3_aead_aes_256_gcm:  *profile2 = srtp_profile_aead_aes_256_gcm;  return true;
    default:
        /* null_null and AES-192/256-CM have no libsrtp2 profile value; unused
         * by mediasoup. */
        return false;
    }
}

srtp_err_status_t ms_srtp3_init(void) { return srtp_init(); }
srtp_err_status_t ms_srtp3_shutdown(void) { return srtp_shutdown(); }
const char *ms_srtp3_get_version_string(void) { return srtp_get_version_string(); }
unsigned int ms_srtp3_get_version(void) { return srtp_get_version(); }

static void event_trampoline(srtp_event_data_t *data2)
{
    ms_srtp3_event_data_t data3;

    if (g_user_event_handler == NULL || data2 == NULL)
        return;
    data3.session = data2->session;
    data3.ssrc = data2->ssrc;
    data3.event = (int)data2->event;
    g_user_event_handler(&data3);
}

srtp_err_status_t ms_srtp3_install_event_handler(ms_srtp3_event_handler_func_t func)
{
    g_user_event_handler = func;
    return srtp_install_event_handler(func ? event_trampoline : NULL);
}

srtp_err_status_t ms_srtp3_policy_create(ms_srtp3_policy_t **policy)
{
    ms_srtp3_policy_t *p;

    if (policy == NULL)
        return srtp_err_status_bad_param;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return srtp_err_status_alloc_fail;
    p->p2.window_size = 0; /* libsrtp2: 0 = default (128) */
    p->p2.allow_repeat_tx = 0;
    p->p2.ssrc.type = ssrc_undefined;
    p->p2.next = NULL;
    *policy = p;
    return srtp_err_status_ok;
}

void ms_srtp3_policy_destroy(ms_srtp3_policy_t *policy)
{
    if (policy == NULL)
        return;
    memset(policy, 0, sizeof(*policy)); /* wipe key material */
    free(policy);
}

srtp_err_status_t ms_srtp3_policy_set_ssrc(ms_srtp3_policy_t *policy, srtp_ssrc_t ssrc)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    if (ssrc.type != ssrc_specific && ssrc.type != ssrc_any_inbound &&
        ssrc.type != ssrc_any_outbound)
        return srtp_err_status_bad_param;
    policy->p2.ssrc = ssrc;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_profile(ms_srtp3_policy_t *policy, int profile3)
{
    srtp_profile_t profile2;
    srtp_err_status_t err;

    if (policy == NULL || !map_profile(profile3, &profile2))
        return srtp_err_status_bad_param;
    err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->p2.rtp, profile2);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->p2.rtcp, profile2);
    if (err != srtp_err_status_ok)
        return err;
    policy->profile3 = profile3;
    policy->profile_set = true;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_get_profile(ms_srtp3_policy_t *policy, int *profile3)
{
    if (policy == NULL || profile3 == NULL)
        return srtp_err_status_bad_param;
    *profile3 = policy->profile_set ? policy->profile3 : p3_reserved;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_add_key(ms_srtp3_policy_t *policy,
                                          const uint8_t *key, size_t key_len,
                                          const uint8_t *salt, size_t salt_len,
                                          const uint8_t *mki, size_t mki_len)
{
    (void)mki;
    if (policy == NULL || key == NULL || salt == NULL)
        return srtp_err_status_bad_param;
    /* No MKI support (unused by mediasoup); without MKI only one key is
     * allowed, as in libsrtp 3.0. */
    if (mki_len != 0 || policy->has_key)
        return srtp_err_status_bad_param;
    if (key_len + salt_len > SRTP_MAX_KEY_LEN)
        return srtp_err_status_bad_param;
    /* libsrtp2 wants key || salt in one buffer. */
    memcpy(policy->key, key, key_len);
    memcpy(policy->key + key_len, salt, salt_len);
    policy->key_len = key_len;
    policy->salt_len = salt_len;
    policy->has_key = true;
    policy->p2.key = policy->key;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_remove_keys(ms_srtp3_policy_t *policy)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    memset(policy->key, 0, sizeof(policy->key));
    policy->key_len = 0;
    policy->salt_len = 0;
    policy->has_key = false;
    policy->p2.key = NULL;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_window_size(ms_srtp3_policy_t *policy, size_t window_size)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    if (window_size != 0 && (window_size < 64 || window_size >= 0x8000))
        return srtp_err_status_bad_param;
    policy->p2.window_size = (unsigned long)window_size;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_allow_repeat_tx(ms_srtp3_policy_t *policy, bool allow)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;
    policy->p2.allow_repeat_tx = allow ? 1 : 0;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_validate(ms_srtp3_policy_t *policy)
{
    srtp_profile_t profile2;

    if (policy == NULL || !policy->profile_set || !policy->has_key)
        return srtp_err_status_bad_param;
    if (policy->p2.ssrc.type != ssrc_specific && policy->p2.ssrc.type != ssrc_any_inbound &&
        policy->p2.ssrc.type != ssrc_any_outbound)
        return srtp_err_status_bad_param;
    if (!map_profile(policy->profile3, &profile2))
        return srtp_err_status_bad_param;
    if (policy->key_len != srtp_profile_get_master_key_length(profile2) ||
        policy->salt_len != srtp_profile_get_master_salt_length(profile2))
        return srtp_err_status_bad_param;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_create(srtp_t *session, ms_srtp3_policy_t *policy)
{
    srtp_err_status_t err;

    if (session == NULL)
        return srtp_err_status_bad_param;
    if (policy == NULL)
        return srtp_create(session, NULL);
    err = ms_srtp3_policy_validate(policy);
    if (err != srtp_err_status_ok)
        return err;
    policy->p2.next = NULL;
    /* libsrtp2 derives the session keys here and keeps no reference to the
     * policy or its key buffer, so the policy may be destroyed afterwards. */
    return srtp_create(session, &policy->p2);
}

srtp_err_status_t ms_srtp3_dealloc(srtp_t session) { return srtp_dealloc(session); }

srtp_err_status_t ms_srtp3_stream_add(srtp_t session, ms_srtp3_policy_t *policy)
{
    srtp_err_status_t err;

    if (session == NULL || policy == NULL)
        return srtp_err_status_bad_param;
    err = ms_srtp3_policy_validate(policy);
    if (err != srtp_err_status_ok)
        return err;
    policy->p2.next = NULL;
    return srtp_add_stream(session, &policy->p2);
}

srtp_err_status_t ms_srtp3_stream_remove(srtp_t session, uint32_t ssrc)
{
    return srtp_remove_stream(session, ssrc);
}

/* libsrtp2 works in place: copy input to the output buffer (if different)
 * after checking the output buffer can hold the result. */
static srtp_err_status_t prepare_out(const uint8_t *in, size_t in_len, uint8_t *out,
                                     size_t out_cap, size_t needed, int *len)
{
    if (in == NULL || out == NULL || in_len > (size_t)INT_MAX - 512)
        return srtp_err_status_bad_param;
    if (out_cap < needed)
        return MS_SRTP3_ERR_BUFFER_SMALL;
    if (out != in)
        memmove(out, in, in_len);
    *len = (int)in_len;
    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_protect(srtp_t ctx, const uint8_t *rtp, size_t rtp_len,
                                   uint8_t *srtp, size_t *srtp_len, size_t mki_index)
{
    srtp_err_status_t err;
    int len;

    (void)mki_index;
    if (srtp_len == NULL)
        return srtp_err_status_bad_param;
    err = prepare_out(rtp, rtp_len, srtp, *srtp_len, rtp_len + SRTP_MAX_TRAILER_LEN, &len);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_protect(ctx, srtp, &len);
    if (err == srtp_err_status_ok)
        *srtp_len = (size_t)len;
    return err;
}

srtp_err_status_t ms_srtp3_unprotect(srtp_t ctx, const uint8_t *srtp, size_t srtp_len,
                                     uint8_t *rtp, size_t *rtp_len)
{
    srtp_err_status_t err;
    int len;

    if (rtp_len == NULL)
        return srtp_err_status_bad_param;
    err = prepare_out(srtp, srtp_len, rtp, *rtp_len, srtp_len, &len);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_unprotect(ctx, rtp, &len);
    if (err == srtp_err_status_ok)
        *rtp_len = (size_t)len;
    return err;
}

srtp_err_status_t ms_srtp3_protect_rtcp(srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len,
                                        uint8_t *srtcp, size_t *srtcp_len, size_t mki_index)
{
    srtp_err_status_t err;
    int len;

    (void)mki_index;
    if (srtcp_len == NULL)
        return srtp_err_status_bad_param;
    err = prepare_out(rtcp, rtcp_len, srtcp, *srtcp_len, rtcp_len + 4 + SRTP_MAX_TRAILER_LEN, &len);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_protect_rtcp(ctx, srtcp, &len);
    if (err == srtp_err_status_ok)
        *srtcp_len = (size_t)len;
    return err;
}

srtp_err_status_t ms_srtp3_unprotect_rtcp(srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len,
                                          uint8_t *rtcp, size_t *rtcp_len)
{
    srtp_err_status_t err;
    int len;

    if (rtcp_len == NULL)
        return srtp_err_status_bad_param;
    err = prepare_out(srtcp, srtcp_len, rtcp, *rtcp_len, srtcp_len, &len);
    if (err != srtp_err_status_ok)
        return err;
    err = srtp_unprotect_rtcp(ctx, rtcp, &len);
    if (err == srtp_err_status_ok)
        *rtcp_len = (size_t)len;
    return err;
}

size_t ms_srtp3_profile_get_master_key_length(int profile3)
{
    srtp_profile_t profile2;

    return map_profile(profile3, &profile2) ? srtp_profile_get_master_key_length(profile2) : 0;
}

size_t ms_srtp3_profile_get_master_salt_length(int profile3)
{
    srtp_profile_t profile2;

    return map_profile(profile3, &profile2) ? srtp_profile_get_master_salt_length(profile2) : 0;
}
