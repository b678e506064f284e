// Reads what the destroy guard's override depends on from GitHub's API, for
// tools/destroy-override.ts to judge. Called from actions/github-script
// (`require("./scripts/override-evidence.cjs")`) with its `github` client and
// `context`; needs `pull-requests: read` and `actions: read`.
//
//   pull-request: the pull request of the event;
//   deploy:       the merged pull request whose merge commit is the pushed commit.
"use strict";

const LABEL = "allow-destroy";
/** The workflow whose runs mark when a head commit was pushed and planned. */
const PLAN_WORKFLOW = "plan.yml";

async function findPull(github, context, at) {
  const { owner, repo } = context.repo;
  if (at === "pull-request") {
    const { data } = await github.rest.pulls.get({ owner, repo, pull_number: context.payload.pull_request.number });
    return data;
  }
  const { data } = await github.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: context.sha });
  return data.find((pull) => pull.merged_at && pull.merge_commit_sha === context.sha) ?? null;
}

async function permissionOf(github, context, username) {
  try {
    const { data } = await github.rest.repos.getCollaboratorPermissionLevel({ ...context.repo, username });
    return data.permission;
  } catch (error) {
    // Someone who is no longer a collaborator has no rights here.
    if (error.status === 404) return "none";
    throw error;
  }
}

/** @returns {Promise<import("../tools/destroy-override").OverrideEvidence>} */
async function gather({ github, context }, at) {
  const run = { event: context.eventName, attempt: Number(process.env.GITHUB_RUN_ATTEMPT ?? context.runAttempt ?? 1) };
  const pull = await findPull(github, context, at);
  if (!pull) return { run, pull: null, events: [], permissions: {}, headPlannedAt: null };
  const { owner, repo } = context.repo;
  const all = await github.paginate(github.rest.issues.listEvents, { owner, repo, issue_number: pull.number, per_page: 100 });
  const events = all
    .filter((event) => (event.event === "labeled" || event.event === "unlabeled") && event.label && event.label.name === LABEL)
    .map((event) => ({ event: event.event, label: { name: event.label.name }, actor: event.actor ? { login: event.actor.login } : null, created_at: event.created_at }));
  const permissions = {};
  for (const login of new Set(events.filter((event) => event.actor).map((event) => event.actor.login))) {
    permissions[login] = await permissionOf(github, context, login);
  }
  const runs = await github.paginate(github.rest.actions.listWorkflowRuns, { owner, repo, workflow_id: PLAN_WORKFLOW, head_sha: pull.head.sha, per_page: 100 });
  const created = runs.map((planRun) => planRun.created_at).sort((a, b) => Date.parse(a) - Date.parse(b));
  return {
    run,
    pull: { number: pull.number, state: pull.state, merged_at: pull.merged_at ?? null, head_sha: pull.head.sha },
    events,
    permissions,
    headPlannedAt: created[0] ?? null,
  };
}

module.exports = { gather, LABEL, PLAN_WORKFLOW };
