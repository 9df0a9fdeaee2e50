"""Request checks as strict as the real APIs', built from the vendors' own definitions where they exist.

One module per vendor. Each turns a request's parameters into either nothing (valid) or the vendor's own
error, raised as that API's `ApiError`; the routers call them before they touch the world:

- `meta`: the facebook-business SDK's request definitions (parameter types and enums of each create and
  update call, read from the installed package when the sandbox starts) and Meta's required combinations;
- `tiktok`: TikTok's required fields per objective and optimisation goal, enums, URLs and numbers;
- `openai`: the openai package's request types and the strict structured-output schema rules;
- `shopify`: the supported API versions, request bodies, global ids and access scopes.

What each vendor's failures look like when the world is asked for them (quota, balance, throttles, held
orders, missing scopes) are `WorldSettings` switched through `POST /_sandbox/settings`:
`openai_insufficient_quota`, `cj_balance`, `cj_intercept_orders`, `cj_token_interval_s`,
`shopify_granted_scopes`, `meta_regain_minutes`. tests/contract drives all of it with the vendors' SDKs.
"""
