"""A store's support mailbox over IMAP and SMTP, for stores without a helpdesk.

`resource.EmailChannelResource` offers the support channel's interface (`SupportChannel`), so the support
assets read and answer either:
- a ticket is an email thread, named by its root Message-ID (first of `References`, else `In-Reply-To`,
  else the message's own); ids are stable integers hashed from Message-IDs, never IMAP UIDs, because UIDs
  are renumbered when the server resets UIDVALIDITY and the ledger must keep recognising a message;
- reading is incremental by UID (`read_new`): UIDs only grow within a UIDVALIDITY, so "every UID above
  the cursor" misses nothing and repeats nothing; bodies are fetched with `BODY.PEEK`, so reading never
  marks a customer's mail as seen for the humans who share the mailbox;
- a reply goes out by SMTP with `In-Reply-To`/`References` (it threads in the customer's client) and a
  `Message-ID` derived from the ledger's reply key, then a copy is appended to the Sent mailbox, where
  `find_reply` looks for it before a resend; a resend after a crash carries the same Message-ID, so the
  customer's client and our Sent search both recognise it;
- answered means the IMAP `\\Answered` flag; tags are IMAP keywords;
- a message that cannot be answered (no From, broken MIME) stays in the mailbox, flagged for a human
  (`\\Flagged` + `dropship-malformed`), and is reported with the reason; it never stops the batch.

Modules, one reason to change each: `mime` (reading and writing RFC 5322 messages), `html_text` (the
visible text of an HTML body), `threads` (mail threads and flags as tickets and tags), `imap` (the IMAP
session, through imapclient), `smtp` (sending), `resource` (the channel itself).
"""
