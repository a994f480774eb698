import { useState } from 'preact/hooks';
import { forgetToken, setToken } from '../api.js';

/** Shown without a token (or with a refused one): how to get one; never a spinner. */
export function NoToken(props: { refused: boolean; onToken: () => void }) {
  const [value, setValue] = useState('');
  return (
    <div class="no-token" data-testid="no-token">
      <h1>
        <span class="logo">◆</span> clawpod
      </h1>
      {props.refused ? (
        <p class="error">This browser's API token was refused: the daemon has another one.</p>
      ) : (
        <p>This page needs the daemon's API token to show anything.</p>
      )}
      <ol>
        <li>
          On the machine that runs clawpod, run <code>clawpod open</code>. It opens this page with
          the token (or prints the link to open).
        </li>
        <li>
          Or paste the token from <code>$CLAWPOD_HOME/api-token</code> (default{' '}
          <code>~/.clawpod/api-token</code>) here:
        </li>
      </ol>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim()) return;
          setToken(value);
          props.onToken();
        }}
      >
        <input
          type="password"
          placeholder="API token"
          autocomplete="off"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button class="btn primary">Use token</button>
        {props.refused ? (
          <button
            type="button"
            class="btn"
            onClick={() => {
              forgetToken();
              location.reload();
            }}
          >
            Forget the old token
          </button>
        ) : null}
      </form>
      <p class="muted">
        The token stays in this browser only; it is sent to this daemon and nowhere else.
      </p>
    </div>
  );
}
