"""Request checks as strict as the real APIs', built from the vendors' own definitions where they exist.

One module per vendor. Each turns a request's parameters into either nothing (valid) or the vendor's own
error, raised as that API's `ApiError`; the routers call them before they touch the world:

- `meta`: the facebook-business SDK's request definitions (parameter types and enums of each create and
  update call, read from the installed package when the sandbox starts) and Meta's required combinations;
- `tiktok`: TikTok's required fields per objective and optimisation goal, enums, URLs and numbers;
- `openai`: the openai package's request types and the strict structured-output schema rules.
"""
