import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Api } from "./api/client";
import { initAuth } from "./api/auth";
import { Stream, browserWs, streamUrl } from "./api/ws";
import { AppProvider } from "./app/context";
import App from "./app/App";
import "./styles.css";

// First of all: take a #token=… out of the address bar.
const auth = initAuth();
const stream = new Stream({ url: streamUrl(window.location), factory: browserWs });

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <AppProvider auth={auth} stream={stream} api={(ask) => new Api({ getToken: () => auth.get(), onAuthRequired: ask })}>
        <App />
      </AppProvider>
    </StrictMode>,
  );
}
