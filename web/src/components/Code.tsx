import hljs from 'highlight.js/lib/core';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';

hljs.registerLanguage('python', python);
hljs.registerLanguage('json', json);

/** Source code highlighted by highlight.js (which escapes it); Python and JSON are what steps hold. */
export function Code({ code, language }: { code: string; language: 'python' | 'json' }) {
  return <pre class="code-block"><code class={`hljs language-${language}`} dangerouslySetInnerHTML={{ __html: hljs.highlight(code, { language }).value }} /></pre>;
}
