import { useEffect, useState } from "react";
import type { Candidate, Listing, Page } from "../api";
import type { PageProps } from "../App";
import { RunJob } from "../RunJob";
import { Badge, hashDetail, money, Pager, ratio, Section, Table, when, useApi } from "../ui";

export function ProductsPage({ onUnauthorized }: PageProps) {
  const [candidateStatus, setCandidateStatus] = useState("");
  const [listingStatus, setListingStatus] = useState("");
  const [cOffset, setCOffset] = useState(0);
  const [lOffset, setLOffset] = useState(0);
  const candidates = useApi<Page<Candidate>>(`/api/products/candidates?limit=25&offset=${cOffset}${candidateStatus ? `&status=${candidateStatus}` : ""}`, onUnauthorized);
  // "#/products/<pid>" (a product link from the Ads or Metrics page) shows that product's listing.
  const [pid, setPid] = useState<string | null>(hashDetail());
  useEffect(() => {
    const onHash = () => setPid(hashDetail());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const listingQuery = `limit=25&offset=${lOffset}${listingStatus ? `&status=${listingStatus}` : ""}${pid ? `&pid=${encodeURIComponent(pid)}` : ""}`;
  const listings = useApi<Page<Listing>>(`/api/products/listings?${listingQuery}`, onUnauthorized);
  return (
    <>
      <div className="page-head">
        <h1>Products</h1>
        <RunJob job="product_discovery_job" label="Run product discovery" />
      </div>
      <Section
        title="Candidates"
        state={candidates}
        isEmpty={(d) => d.items.length === 0}
        empty="No candidates: product discovery has not run yet."
        actions={
          <select aria-label="Candidate status" value={candidateStatus} onChange={(e) => { setCandidateStatus(e.target.value); setCOffset(0); }}>
            <option value="">All</option>
            <option value="accepted">Accepted</option>
            <option value="rejected">Rejected</option>
          </select>
        }
      >
        {(d) => (
          <>
            <Table
              rows={d.items}
              rowKey={(r) => r.pid}
              columns={[
                { label: "Product", render: (r) => r.name },
                { label: "Status", render: (r) => <Badge value={r.status} /> },
                { label: "Score", render: (r) => (r.score === null ? "—" : r.score.toFixed(2)), numeric: true },
                { label: "Price", render: (r) => money(r.price), numeric: true },
                { label: "Unit profit", render: (r) => money(r.profit), numeric: true },
                { label: "Margin", render: (r) => ratio(r.margin, true), numeric: true },
                { label: "Why rejected", render: (r) => r.reason ?? "" },
              ]}
            />
            <Pager total={d.total} limit={d.limit} offset={d.offset} onChange={setCOffset} />
          </>
        )}
      </Section>
      <Section
        title="Listings"
        state={listings}
        isEmpty={(d) => d.items.length === 0}
        empty="Nothing listed on the store yet."
        actions={
          <span className="filters">
          {pid && (
            <span className="small" data-testid="product-filter">
              Product {pid} · <a href="#/products">show all</a>
            </span>
          )}
          <select aria-label="Listing status" value={listingStatus} onChange={(e) => { setListingStatus(e.target.value); setLOffset(0); }}>
            <option value="">All</option>
            <option value="listed">Listed</option>
            <option value="pending">Pending</option>
            <option value="failed">Failed</option>
          </select>
          </span>
        }
      >
        {(d) => (
          <>
            <Table
              rows={d.items}
              rowKey={(r) => r.pid}
              columns={[
                { label: "Title", render: (r) => r.title },
                { label: "Status", render: (r) => <Badge value={r.status} /> },
                { label: "Price", render: (r) => money(r.price), numeric: true },
                { label: "Cost", render: (r) => money(r.unit_cost), numeric: true },
                { label: "Shipping", render: (r) => money(r.shipping_cost), numeric: true },
                { label: "Listed", render: (r) => when(r.listed_at) },
                { label: "Problem", render: (r) => (r.last_error ? <span className="neg">{r.last_error}</span> : "") },
              ]}
            />
            <Pager total={d.total} limit={d.limit} offset={d.offset} onChange={setLOffset} />
          </>
        )}
      </Section>
    </>
  );
}
