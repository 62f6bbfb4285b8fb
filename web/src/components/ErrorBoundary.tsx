import { Component, type ComponentChildren } from 'preact';
import { ErrorBox } from './ErrorBox';

/** A view that throws while rendering shows the error instead of leaving the page blank. */
export class ErrorBoundary extends Component<{ children: ComponentChildren }, { error?: unknown }> {
  override state: { error?: unknown } = {};
  override componentDidCatch(error: unknown) {
    this.setState({ error });
  }
  override render() {
    return this.state.error ? <ErrorBox error={this.state.error} onRetry={() => this.setState({ error: undefined })} /> : this.props.children;
  }
}
