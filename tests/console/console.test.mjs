// The web console in a real Chromium against a real `baton serve` with the scripted fake
// provider (tests/console/run.sh starts both): sign in, create agents (form and JSON), chat in
// the playground with a streamed answer and a tool call, approve a pending call, answer a
// client-side function call, open the run's timeline, create a schedule after seeing its next
// firings, read usage. Each page is screenshotted into $SCREENSHOTS.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const { BATON_URL, BATON_API_KEY, FAKE_ROOT, CHROMIUM, SCREENSHOTS } = process.env;
let browser;
let page;

/** Queues the fake model's next answers. */
async function script(...turns) {
  const res = await fetch(`${FAKE_ROOT}/_fake/turns`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(turns),
  });
  assert.equal(res.status, 204, await res.text());
}

const shot = (name) => page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });

before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.type() === "error" && !/status of 4\d\d/.test(m.text()) && errors.push(m.text()));
  page.errors = errors;
});

after(async () => {
  await browser?.close();
});

test("sign in: a wrong key is refused, the right one opens the agents page", async () => {
  await page.goto(`${BATON_URL}/`);
  await page.getByLabel("API key").fill("baton_wrong_key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not accepted" }).waitFor();
  await shot("signin");
  await page.getByLabel("API key").fill(BATON_API_KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Agents" }).waitFor();
  // The key is in session storage, not in a cookie or local storage.
  assert.equal(await page.evaluate(() => sessionStorage.getItem("baton.apiKey")), BATON_API_KEY);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
});

test("create an agent with the form", async () => {
  await page.getByRole("link", { name: "New agent" }).click();
  await page.getByLabel("Key").fill("helper");
  await page.getByLabel("Display name").fill("Helper");
  await page.getByLabel("Description").fill("Answers with the date");
  await page.getByLabel("Instructions").fill("Tell the date when asked.");
  await page.getByRole("checkbox", { name: "current_date" }).check();
  await page.getByRole("button", { name: "Create agent" }).click();
  await page.getByRole("heading", { name: "Agent helper" }).waitFor();
  await page.getByRole("heading", { name: "Versions" }).waitFor();
  await shot("agent");
  const res = await fetch(`${BATON_URL}/v2/agents/helper`, { headers: { authorization: `Bearer ${BATON_API_KEY}` } });
  const agent = await res.json();
  assert.deepEqual(agent.settings.tools.map((t) => t.type), ["current_date"]);
  assert.equal(agent.display_name, "Helper");
});

test("editing an agent makes a version, and two versions show their differences", async () => {
  await page.getByLabel("Instructions").fill("Tell the date, briefly.");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  const diff = page.getByLabel("Differences");
  await diff.locator(".del").filter({ hasText: "Tell the date when asked." }).waitFor();
  await diff.locator(".add").filter({ hasText: "Tell the date, briefly." }).waitFor();
  await shot("versions");
});

test("the playground streams the answer and shows the tool call as it happens", async () => {
  await script({ tool_calls: [{ name: "current_date", arguments: {} }] }, { text: "Today is a fine day to ship." });
  await page.goto(`${BATON_URL}/#/playground/helper`);
  await page.getByLabel("Message").fill("What day is it?");
  await page.getByRole("button", { name: "Send" }).click();
  const tool = page.locator(".msg.tool").filter({ hasText: "current_date" });
  await tool.getByText("done").waitFor();
  await page.locator(".msg.text .answer").filter({ hasText: "Today is a fine day to ship." }).waitFor();
  await page.getByText("Finished: stop").waitFor();
  await shot("playground");

  // A second message continues the same task.
  const task = await page.locator(".chat code").first().textContent();
  await script({ text: "Still the same day." });
  await page.getByLabel("Message").fill("And now?");
  await page.getByRole("button", { name: "Send (continue task)" }).click();
  await page.getByText("Still the same day.").waitFor();
  assert.equal(await page.locator(".chat code").first().textContent(), task);
});

test("an agent made as JSON pauses on a call needing approval until it is approved", async () => {
  await page.goto(`${BATON_URL}/#/agents/new`);
  await page.getByRole("tab", { name: "JSON" }).click();
  const spec = {
    key: "careful", role: "Assistant", description: "Asks before acting", instructions: "Be careful.",
    path: "Default", model: "openai/gpt-4o-mini",
    settings: { tool_approval_required: "all", tools: [{ type: "current_date" }] },
  };
  await page.getByLabel("Agent JSON").fill(JSON.stringify(spec, null, 2));
  await page.getByRole("button", { name: "Create agent" }).click();
  await page.getByRole("heading", { name: "Agent careful" }).waitFor();

  await script({ tool_calls: [{ name: "current_date", arguments: {} }] }, { text: "Approved, and it is today." });
  await page.goto(`${BATON_URL}/#/playground/careful`);
  await page.getByLabel("Message").fill("Check the date, carefully.");
  await page.getByRole("button", { name: "Send" }).click();
  const approve = page.getByRole("button", { name: "Approve current_date" });
  await approve.waitFor();
  await page.getByText("Finished: tool_calls").waitFor();
  await shot("approval");
  await approve.click();
  await page.getByText("Approved, and it is today.").waitFor();
  await page.locator(".msg.tool").filter({ hasText: "current_date" }).getByText("done").waitFor();
});

test("a client-side function call is answered from the playground", async () => {
  const headers = { authorization: `Bearer ${BATON_API_KEY}`, "content-type": "application/json" };
  const tool = {
    key: "weather", path: "Default", type: "function", description: "Weather by city",
    function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  };
  const res = await fetch(`${BATON_URL}/v2/tools`, { method: "POST", headers, body: JSON.stringify(tool) });
  assert.equal(res.status, 200, await res.text());
  await page.goto(`${BATON_URL}/#/agents/new`);
  await page.getByLabel("Key").fill("forecaster");
  await page.getByLabel("Description").fill("Asks the client for the weather");
  await page.getByLabel("Instructions").fill("Use the weather function.");
  await page.getByRole("checkbox", { name: /weather/ }).check();
  await page.getByRole("button", { name: "Create agent" }).click();
  await page.getByRole("heading", { name: "Agent forecaster" }).waitFor();

  await script({ tool_calls: [{ name: "weather", arguments: { city: "Lima" } }] }, { text: "Lima is sunny." });
  await page.goto(`${BATON_URL}/#/playground/forecaster`);
  await page.getByLabel("Message").fill("Weather in Lima?");
  await page.getByRole("button", { name: "Send" }).click();
  await page.getByLabel(/Result of weather/).fill('{"sky": "sunny"}');
  await page.getByRole("button", { name: "Send results" }).click();
  await page.getByText("Lima is sunny.").waitFor();
  const seen = await (await fetch(`${FAKE_ROOT}/_fake/requests`)).json();
  assert.ok(JSON.stringify(seen.at(-1)).includes("sunny"), "the model got the client's result");
});

test("the run's timeline shows the model calls and the tool call", async () => {
  await page.goto(`${BATON_URL}/#/runs`);
  await page.getByRole("heading", { name: "Runs" }).waitFor();
  await page.getByLabel("Agent").selectOption("helper");
  const rows = page.locator("tbody tr");
  await rows.first().waitFor();
  await shot("runs");
  await rows.first().getByRole("link").click();
  await page.getByRole("heading", { name: "Timeline" }).waitFor();
  const spans = page.locator(".waterfall .wf-row:not(.wf-head)");
  await spans.filter({ hasText: "current_date" }).first().waitFor();
  assert.ok((await spans.count()) >= 3, `spans: ${await spans.allTextContents()}`);
  // Its messages: both turns of the task, the tool call and its result.
  const messages = page.locator(".transcript li");
  await messages.filter({ hasText: "Today is a fine day to ship." }).waitFor();
  await messages.filter({ hasText: "Still the same day." }).waitFor();
  await messages.filter({ hasText: "Tool result: current_date" }).waitFor();
  await shot("run");
  await page.getByText(/^Events \(\d+\)$/).click();
  await page.locator(".events code").filter({ hasText: "tool.done" }).first().waitFor();
});

test("a schedule's next firings are previewed before it is created, then it runs on demand", async () => {
  await page.goto(`${BATON_URL}/#/schedules/helper`);
  await page.getByLabel("Type").selectOption("interval");
  await page.getByLabel("Expression").fill("@every 2h");
  const firings = page.locator(".firings li");
  await page.waitForFunction(() => document.querySelectorAll(".firings li").length === 5);
  const times = (await firings.locator("small").allTextContents()).map((t) => Date.parse(t));
  for (let i = 1; i < 5; i++) assert.equal(times[i] - times[i - 1], 2 * 3600 * 1000);
  await page.getByLabel("Expression").fill("@every soon");
  await page.locator(".preview .error").waitFor();
  await page.getByLabel("Expression").fill("@every 2h");
  await page.waitForFunction(() => document.querySelectorAll(".firings li").length === 5);
  await page.getByLabel("Name", { exact: true }).fill("Bi-hourly digest");
  await page.getByLabel("Message each firing sends").fill("Summarize the news");
  await page.getByRole("button", { name: "Create schedule" }).click();
  const row = page.locator("tbody tr").filter({ hasText: "Bi-hourly digest" });
  await row.waitFor();
  await shot("schedules");
  await script({ text: "Digest done." });
  await row.getByRole("button", { name: "Trigger now" }).click();
  await page.locator(".history li").first().waitFor();
  await row.getByRole("button", { name: "Pause" }).click();
  await row.getByText("paused").waitFor();
});

test("usage shows cost and tokens per day, agent and model", async () => {
  await page.goto(`${BATON_URL}/#/usage`);
  await page.getByText("Cost per day").waitFor();
  // A bar per day of the period (30 by default); only today's (or yesterday's, near midnight
  // UTC) has the tokens of the runs above.
  await page.waitForFunction(() => document.querySelectorAll(".chart svg rect.bar").length > 0);
  const tokens = page.locator("figure").filter({ hasText: "Tokens per day" }).locator("rect.bar");
  const heights = await tokens.evaluateAll((bars) => bars.map((b) => Number(b.getAttribute("height"))));
  assert.equal(heights.length, 30);
  assert.ok(heights.slice(-2).some((h) => h > 0) && heights.slice(0, -2).every((h) => h === 0), `bar heights ${heights}`);
  await page.locator("figure").filter({ hasText: "By agent" }).getByRole("cell", { name: "helper" }).waitFor();
  await page.locator("figure").filter({ hasText: "By model" }).getByRole("cell", { name: /gpt-4o-mini/ }).waitFor();
  await shot("usage");
});

test("the other pages load, and the console fits a phone", async () => {
  for (const [hash, heading] of [["tools", "Tools"], ["memory", "Memory stores"], ["knowledge", "Knowledge bases"], ["keys", "API keys"]]) {
    await page.goto(`${BATON_URL}/#/${hash}`);
    await page.getByRole("heading", { name: heading, exact: true }).waitFor();
    await page.getByText("Loading…").waitFor({ state: "detached" });
    assert.deepEqual(await page.getByRole("alert").allTextContents(), [], `errors on #/${hash}`);
  }
  await page.locator("table").filter({ hasText: "Prefix" }).waitFor();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BATON_URL}/#/playground/helper`);
  await page.getByLabel("Message").waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a phone`);
  await shot("phone-playground");
  assert.deepEqual(page.errors, [], "no script errors in the page");
});
