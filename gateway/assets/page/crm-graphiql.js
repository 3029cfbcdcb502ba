// Starts GraphiQL from the gateway's own files: the editors' workers come from the versioned
// asset path next to the bundle, never from a CDN. Loaded before the bundle (which reads
// MonacoEnvironment), it renders once the document is parsed.
(function () {
  "use strict";
  var assets = document.currentScript.dataset.assets;
  var workers = {
    editorWorkerService: assets + "/monacoeditorwork/editor.worker.bundle.js",
    json: assets + "/monacoeditorwork/json.worker.bundle.js",
    graphql: assets + "/monacoeditorwork/graphql.worker.bundle.js",
  };
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) {
      return workers[label] || workers.editorWorkerService;
    },
  };

  var DEFAULT_DOCUMENT = [
    "# The CRM's GraphQL API, through the gateway.",
    "#",
    "# 1. Log in: run the mutation below (the demo user of `cargo xtask dev --demo`) and copy",
    "#    the token from the result.",
    "# 2. Open Headers (at the bottom) and set",
    '#      {"Authorization": "Bearer <the token>"}',
    "#    Queries, mutations and subscriptions all send it.",
    "# 3. Ask across subgraphs, for example",
    "#      { clients(first: 5) { edges { node { displayName contracts { reference status }",
    "#        invoices { number status totalInclVat } tasks { title status } } } } }",
    "#    or listen live:",
    "#      subscription { notificationAdded { title message client { displayName } } }",
    "",
    "mutation LogIn {",
    '  login(input: {email: "demo@crm.example", password: "demo-password-2026"}) {',
    "    token",
    "    organisation { name }",
    "    role",
    "  }",
    "}",
    "",
  ].join("\n");

  function render() {
    // `?query=` (read by Yoga GraphiQL itself) opens with that operation, `?variables=` with
    // those variables; otherwise the document above.
    var options = { title: "CRM GraphiQL", endpoint: location.pathname, query: DEFAULT_DOCUMENT };
    var variables = new URLSearchParams(location.search).get("variables");
    if (variables !== null) {
      options.variables = variables;
    }
    window.YogaGraphiQL.renderYogaGraphiQL(document.getElementById("root"), options);
  }

  document.addEventListener("DOMContentLoaded", render);
})();
