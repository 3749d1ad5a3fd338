/* api: the names both products agree on: routes, headers, form fields and the
 * engine profiles. sttd answers with them; sttbench asks with them. One home,
 * so the service and the laboratory cannot drift apart. Constants only (and
 * the profile lookups, which are pure and thread-safe).
 */
#ifndef STT_API_H
#define STT_API_H

/* Routes. */
#define STT_ROUTE_TRANSCRIPTIONS "/v1/audio/transcriptions"
#define STT_ROUTE_INFERENCE "/inference"
#define STT_ROUTE_MODELS "/v1/models"
#define STT_ROUTE_HEALTH "/health"
#define STT_ROUTE_READY "/ready"
#define STT_ROUTE_METRICS "/metrics"

/* Headers on every transcription answer (and X-Request-Id on every answer). */
#define STT_HDR_REQUEST_ID "X-Request-Id"
#define STT_HDR_QUEUE_MS "X-Queue-Time-Ms"
#define STT_HDR_PROCESS_MS "X-Process-Time-Ms"
#define STT_HDR_AUDIO_S "X-Audio-Duration-S"
#define STT_HDR_PIECES "X-Pieces"
/* Request header carrying the API key (besides Authorization: Bearer). */
#define STT_HDR_API_KEY "X-API-Key"

/* Multipart form fields of a transcription request. */
#define STT_FIELD_FILE "file"
#define STT_FIELD_MODEL "model"
#define STT_FIELD_LANGUAGE "language"
#define STT_FIELD_PROMPT "prompt"
#define STT_FIELD_RESPONSE_FORMAT "response_format"
#define STT_FIELD_GRANULARITIES "timestamp_granularities[]"
#define STT_FIELD_THREADS "threads"

/* Engine profiles, fastest first. */
#define STT_N_PROFILES 3
extern const char *const stt_profile_names[STT_N_PROFILES]; /* fast, balanced, accurate */
#define STT_DEFAULT_PROFILE "balanced"

/* The index of a profile name, or STT_EMODEL when there is none (NULL too). */
int stt_profile_index(const char *name);

/* "fast, balanced, accurate", for messages. Static. */
const char *stt_profile_list(void);

#endif
